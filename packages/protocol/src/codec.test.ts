import { describe, expect, it } from 'vitest';
import {
  decodeClientFrame,
  encodeClientControl,
  decodeServerFrame,
  encodeBatch,
  encodeFrame,
  encodeTail,
  encodeWithTail,
  hello,
  isValidName,
  splitBatch,
  utf8Length,
} from './codec.js';
import { FrameCode, type Frame } from './frames.js';
import { WirehopError } from './codes.js';

/** Golden frames: the exact text on the wire, as docs/protocol.md shows it. */
const CLIENT_GOLDEN: Array<[string, Frame]> = [
  ['[1,1,"room:lobby"]', { type: 'subscribe', seq: 1, channel: 'room:lobby' }],
  ['[2,9,"room:lobby"]', { type: 'unsubscribe', seq: 9, channel: 'room:lobby' }],
  ['[3,2,"room:lobby","message",{"text":"hi"}]', { type: 'publish', seq: 2, channel: 'room:lobby', event: 'message', data: { text: 'hi' } }],
  ['[4,3,"typing",true]', { type: 'send', seq: 3, event: 'typing', data: true }],
  ['[5,4,"history",{"limit":10}]', { type: 'request', seq: 4, method: 'history', data: { limit: 10 } }],
  ['[6,5,"room:lobby"]', { type: 'presence', seq: 5, channel: 'room:lobby' }],
  ['[20,41]', { type: 'ack', ack: 41 }],
  ['[21,1700000000000]', { type: 'ping', n: 1700000000000 }],
  ['[22,7]', { type: 'pong', n: 7 }],
  ['[24,{"v":1,"auth":{"token":"t"}}]', { type: 'hello', v: 1, auth: { token: 't' } }],
  ['[24,{"v":1,"sid":"abc","token":"secret","ack":40}]', { type: 'hello', v: 1, sid: 'abc', token: 'secret', ack: 40 }],
  ['[1,3,"room:lobby",{"epoch":"e1","offset":17}]', { type: 'subscribe', seq: 3, channel: 'room:lobby', since: { epoch: 'e1', offset: 17 } }],
  ['[7,4,"room:lobby",null,50]', { type: 'history', seq: 4, channel: 'room:lobby', since: null, limit: 50 }],
  ['[7,5,"room:lobby",{"epoch":"e1","offset":0},10]', { type: 'history', seq: 5, channel: 'room:lobby', since: { epoch: 'e1', offset: 0 }, limit: 10 }],
];

const SERVER_GOLDEN: Array<[string, Frame]> = [
  ['[10,7,"room:lobby","message",{"text":"hi"},31]', { type: 'event', seq: 7, channel: 'room:lobby', event: 'message', data: { text: 'hi' }, offset: 31 }],
  ['[16,12,"room:lobby","history_unavailable","gone",{"epoch":"e2","offset":40}]', { type: 'gap', seq: 12, channel: 'room:lobby', code: 'history_unavailable', message: 'gone', position: { epoch: 'e2', offset: 40 } }],
  ['[11,8,"notice","hello"]', { type: 'message', seq: 8, event: 'notice', data: 'hello' }],
  ['[12,8,2,null]', { type: 'reply', seq: 8, re: 2, data: null }],
  ['[13,9,5,"forbidden","not allowed"]', { type: 'replyError', seq: 9, re: 5, code: 'forbidden', message: 'not allowed' }],
  ['[14,10,"room:lobby",{"id":"u1","info":{"name":"Ada"}}]', { type: 'join', seq: 10, channel: 'room:lobby', member: { id: 'u1', info: { name: 'Ada' } } }],
  ['[15,11,"room:lobby",{"id":"u1"}]', { type: 'leave', seq: 11, channel: 'room:lobby', member: { id: 'u1' } }],
  ['[20,3]', { type: 'ack', ack: 3 }],
  ['[23,"bad_frame","frame is not valid JSON"]', { type: 'error', code: 'bad_frame', message: 'frame is not valid JSON' }],
  ['[23,"server_busy","full",5000]', { type: 'error', code: 'server_busy', message: 'full', retryMs: 5000 }],
  ['[26,"session_expired","session expired",12]', { type: 'bye', code: 'session_expired', message: 'session expired', ack: 12 }],
  [
    '[25,{"v":1,"sid":"s","token":"t","resumed":false,"ack":0,"heartbeatMs":15000,"heartbeatTimeoutMs":10000,"sessionTtlMs":30000,"maxMessageBytes":65536}]',
    { type: 'welcome', v: 1, sid: 's', token: 't', resumed: false, ack: 0, heartbeatMs: 15000, heartbeatTimeoutMs: 10000, sessionTtlMs: 30000, maxMessageBytes: 65536 },
  ],
];

describe('codec golden frames', () => {
  it.each(CLIENT_GOLDEN)('client frame %s encodes and decodes exactly', (text, frame) => {
    expect(encodeFrame(frame)).toBe(text);
    expect(decodeClientFrame(text)).toEqual({ ok: true, frame });
  });

  it.each(CLIENT_GOLDEN.filter(([, f]) => ['ack', 'ping', 'pong', 'hello'].includes(f.type)))('client control frame %s encodes the same with encodeClientControl', (text, frame) => {
    expect(encodeClientControl(frame as Parameters<typeof encodeClientControl>[0])).toBe(text);
  });

  it.each(SERVER_GOLDEN)('server frame %s encodes and decodes exactly', (text, frame) => {
    expect(encodeFrame(frame)).toBe(text);
    expect(decodeServerFrame(text)).toEqual({ ok: true, frame });
  });

  it("refuses an ERROR whose retryMs is not a count", () => {
    expect(decodeServerFrame('[23,"server_busy","full",-1]')).toMatchObject({ ok: false, code: 'bad_frame', message: 'error: retryMs must be a non-negative integer' });
    expect(decodeServerFrame('[23,"server_busy","full",1,2]')).toMatchObject({ ok: false, code: 'bad_frame' });
  });

  it('sends undefined data as null', () => {
    expect(encodeFrame({ type: 'send', seq: 1, event: 'e', data: undefined })).toBe('[4,1,"e",null]');
  });

  it('builds a reliable frame from a shared tail exactly as encodeFrame does', () => {
    const tail = encodeTail(['room:1', 'message', { text: 'a\nb "q"' }, 9]);
    for (const seq of [1, 42, 123456]) {
      expect(encodeWithTail(FrameCode.event, seq, tail)).toBe(
        encodeFrame({ type: 'event', seq, channel: 'room:1', event: 'message', data: { text: 'a\nb "q"' }, offset: 9 }),
      );
    }
  });

  it('hello() makes a current-version HELLO', () => {
    expect(hello({ auth: 'x' })).toEqual({ type: 'hello', v: 1, auth: 'x' });
  });
});

describe('decoding never throws on bad input', () => {
  const cases: Array<[string, string]> = [
    ['', 'bad_frame'],
    ['not json', 'bad_frame'],
    ['{"t":1}', 'bad_frame'],
    ['[]', 'bad_frame'],
    ['[99,1]', 'unknown_frame'],
    ['["1",1,"x"]', 'unknown_frame'],
    ['[10,1,"c","e",null]', 'unknown_frame'], // a server frame sent by a client
    ['[1,0,"room"]', 'bad_frame'], // seq starts at 1
    ['[1,1.5,"room"]', 'bad_frame'],
    ['[1,-1,"room"]', 'bad_frame'],
    ['[1,1,""]', 'bad_frame'],
    ['[1,1,"a\\u0000b"]', 'bad_frame'],
    [`[1,1,"${'x'.repeat(257)}"]`, 'bad_frame'],
    ['[1,1,"room","extra"]', 'bad_frame'],
    ['[3,1,"room","ev"]', 'bad_frame'],
    ['[3,1,"room",7,null]', 'bad_frame'],
    ['[20,-1]', 'bad_frame'],
    ['[21,"x"]', 'bad_frame'],
    ['[24,null]', 'bad_frame'],
    ['[24,{"v":1,"sid":"abc"}]', 'bad_frame'], // resume without token
    ['[24,{"v":1,"sid":"abc","token":"t"}]', 'bad_frame'], // resume without ack
    ['[24,{"v":"1"}]', 'bad_frame'],
  ];
  it.each(cases)('client frame %j → %s', (text, code) => {
    const decoded = decodeClientFrame(text);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.code).toBe(code);
      expect(decoded.message.length).toBeGreaterThan(0);
    }
  });

  it('rejects client frames sent by a server, and malformed server frames', () => {
    expect(decodeServerFrame('[1,1,"room"]')).toMatchObject({ ok: false, code: 'unknown_frame' });
    expect(decodeServerFrame('[12,1,0,null]')).toMatchObject({ ok: false, code: 'bad_frame' });
    expect(decodeServerFrame('[14,1,"room",{"name":"no id"}]')).toMatchObject({ ok: false, code: 'bad_frame' });
    expect(decodeServerFrame('[25,{"v":1}]')).toMatchObject({ ok: false, code: 'bad_frame' });
  });

  it('checks every WELCOME field, and leaves out a token the server did not send', () => {
    const body = { v: 1, sid: 's', resumed: true, ack: 3, heartbeatMs: 15000, heartbeatTimeoutMs: 10000, sessionTtlMs: 30000, maxMessageBytes: 65536 };
    const welcome = (over: Record<string, unknown>) => decodeServerFrame(JSON.stringify([25, { ...body, ...over }]));
    expect(welcome({})).toEqual({ ok: true, frame: { type: 'welcome', ...body } });
    expect(welcome({ held: 0, batch: 8, posts: 2 })).toEqual({ ok: true, frame: { type: 'welcome', ...body, held: 0, batch: 8, posts: 2 } });
    for (const [field, value] of [['v', -1], ['sid', 7], ['resumed', 'yes'], ['ack', 1.5], ['heartbeatMs', null], ['heartbeatTimeoutMs', '1'], ['sessionTtlMs', -5], ['maxMessageBytes', 0], ['token', 42], ['held', -1], ['held', 'soon']] as const) {
      const decoded = welcome({ [field]: value });
      expect(decoded).toMatchObject({ ok: false, code: 'bad_frame' });
      if (!decoded.ok) expect(decoded.message).toContain(`welcome.${field}`);
    }
  });

  it('applies configured name limits', () => {
    expect(decodeClientFrame('[1,1,"abcd"]', { maxChannelLength: 3 })).toMatchObject({ ok: false, code: 'bad_frame' });
    expect(decodeClientFrame('[4,1,"abcd",1]', { maxNameLength: 3 })).toMatchObject({ ok: false, code: 'bad_frame' });
  });

  it('survives random garbage', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = '[]{}",:0123456789-.eE truefalsn\\u';
    for (let i = 0; i < 2000; i++) {
      let s = '[';
      const len = Math.floor(rand() * 30);
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      expect(() => decodeClientFrame(s)).not.toThrow();
      expect(() => decodeServerFrame(s)).not.toThrow();
    }
  });
});

describe('isValidName', () => {
  it('is the rule the decoder applies to channel, event and method names', () => {
    expect(isValidName('room:1', 'channel')).toBe(true);
    expect(isValidName('x'.repeat(256), 'channel')).toBe(true);
    expect(isValidName('x'.repeat(257), 'channel')).toBe(false);
    expect(isValidName('x'.repeat(128), 'name')).toBe(true);
    expect(isValidName('x'.repeat(129), 'name')).toBe(false);
    for (const bad of ['', 'a\u0000b', 'tab\there', 'del\u007f', 7, null, undefined]) {
      expect(isValidName(bad, 'channel')).toBe(false);
      expect(isValidName(bad, 'name')).toBe(false);
    }
    expect(isValidName('😀 ünïcode', 'name')).toBe(true);
    expect(isValidName('abcd', 'channel', { maxChannelLength: 3 })).toBe(false);
    expect(isValidName('abcd', 'name', { maxNameLength: 3 })).toBe(false);
  });
});

describe('encoding errors are programmer errors with a clear message', () => {
  it('throws WirehopError bad_frame for data that is not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeFrame({ type: 'send', seq: 1, event: 'e', data: cyclic })).toThrow(WirehopError);
    expect(() => encodeTail([1n])).toThrow(/not JSON-serializable/);
  });
});

describe('NDJSON batches', () => {
  it('round-trips frames, ignoring blank lines and CRLF', () => {
    const frames = ['[20,1]', '[4,1,"e","line\\nbreak"]', '[21,5]'];
    const body = encodeBatch(frames);
    expect(body).toBe('[20,1]\n[4,1,"e","line\\nbreak"]\n[21,5]\n');
    expect(splitBatch(body)).toEqual(frames);
    expect(splitBatch('[20,1]\r\n\r\n[21,5]')).toEqual(['[20,1]', '[21,5]']);
    expect(encodeBatch([])).toBe('');
  });
});

describe('utf8Length', () => {
  it.each(['', 'ascii', 'héllo', '日本語', '😀 emoji', '\ud800 lone surrogate', '\udc00 lone low', 'ends high \ud83d', '\ud83d\ud83d\ude00 two highs', 'x'.repeat(1000)])('%j matches TextEncoder', (s) => {
    expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  });
});
