import { describe, expect, it } from 'vitest';
import { presenceField } from './keys.js';
import { decodeChannelMessage, decodeInboxMessage } from './messages.js';

describe('channel messages', () => {
  it('decodes a publication whose payload holds newlines and any text', () => {
    expect(decodeChannelMessage('Pab_-9\n42\nline 1\nline 2 ✓')).toEqual({ kind: 'publication', epoch: 'ab_-9', offset: 42, payload: 'line 1\nline 2 ✓' });
    expect(decodeChannelMessage('Pe\n1\n')).toEqual({ kind: 'publication', epoch: 'e', offset: 1, payload: '' });
  });

  it('decodes presence changes', () => {
    expect(decodeChannelMessage('J{"id":"ann","info":{"a":1}}')).toEqual({ kind: 'join', member: { id: 'ann', info: { a: 1 } } });
    expect(decodeChannelMessage('L{"id":"ann"}')).toEqual({ kind: 'leave', member: { id: 'ann' } });
  });

  it('throws on what it does not know', () => {
    for (const bad of ['', 'X', 'Pe', 'Pe\nnot-a-number\nx', 'J{"name":1}', 'Jnull']) expect(() => decodeChannelMessage(bad)).toThrow();
  });
});

describe('inbox messages', () => {
  it('accepts requests and answers, and throws on anything else', () => {
    expect(decodeInboxMessage('{"k":"q","id":"1","from":"n","m":null}')).toEqual({ k: 'q', id: '1', from: 'n', m: null });
    expect(decodeInboxMessage('{"k":"a","id":"1","r":[1]}')).toEqual({ k: 'a', id: '1', r: [1] });
    expect(decodeInboxMessage('{"k":"a","id":"1","e":{"code":"timeout","message":"m"}}')).toMatchObject({ e: { code: 'timeout' } });
    for (const bad of ['null', '{"k":"q","id":"1"}', '{"k":"a","id":"1"}', '{"k":"a","id":2,"r":1}', 'not json']) expect(() => decodeInboxMessage(bad)).toThrow();
  });
});

describe('presenceField', () => {
  it('leads with the byte length of the channel, so channel and user split whatever they hold', () => {
    expect(presenceField('a:b', 'u:1')).toBe('3:a:bu:1');
    expect(presenceField('ü', 'x')).toBe('2:üx');
  });
});
