import { describe, expect, it } from 'vitest';
import { ChannelRules, globToRegExp } from './channels.js';

describe('globToRegExp', () => {
  it('matches * as any run of characters and everything else literally', () => {
    const re = globToRegExp('room:*');
    expect(re.test('room:1')).toBe(true);
    expect(re.test('room:a:b')).toBe(true);
    expect(re.test('room:')).toBe(true);
    expect(re.test('rooms:1')).toBe(false);
    expect(globToRegExp('a.b*').test('axb1')).toBe(false);
    expect(globToRegExp('*:(x)').test('q:(x)')).toBe(true);
    expect(globToRegExp('a*b*c').test('a123b456c')).toBe(true);
  });
});

describe('ChannelRules', () => {
  it('returns the first registered match, exact or glob', () => {
    const rules = new ChannelRules();
    const a = { presence: true };
    const b = { publish: true };
    const c = {};
    rules.add('room:*', a);
    rules.add('room:special', b);
    rules.add('news', c);
    expect(rules.match('room:special')).toBe(a);
    expect(rules.match('news')).toBe(c);
    expect(rules.match('newsy')).toBeUndefined();
  });

  it('rejects empty patterns and malformed configs', () => {
    const rules = new ChannelRules();
    expect(() => rules.add('')).toThrow(/non-empty/);
    expect(() => rules.add('x', { authorize: true as never })).toThrow(/authorize must be a function/);
    expect(() => rules.add('x', { publish: 'yes' as never })).toThrow(/publish must be a boolean or a function/);
  });
});
