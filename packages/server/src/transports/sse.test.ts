import { describe, expect, it } from 'vitest';
import { frameTypeName, sseHeaders } from './sse.js';

describe('frameTypeName', () => {
  it('reads the type from the leading code', () => {
    expect(frameTypeName('[10,5,"c","e",null]')).toBe('event');
    expect(frameTypeName('[25,{"v":1}]')).toBe('welcome');
    expect(frameTypeName('[20,3]')).toBe('ack');
    expect(frameTypeName('[13,1,2,"x","y"]')).toBe('replyError');
  });
});

describe('sseHeaders', () => {
  it('sets the proxy-safe headers; Connection only on HTTP/1', () => {
    expect(sseHeaders(false, { vary: 'Origin' })).toEqual({
      vary: 'Origin',
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    expect(sseHeaders(true, {})).not.toHaveProperty('connection');
  });
});
