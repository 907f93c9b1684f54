import { describe, expect, it } from 'vitest';
import { encodeFrame } from './codec.js';
import type { ServerFrame } from './frames.js';
import { createSseFrameParser, sseComment, sseEvent, sseFrame, sseRetry } from './sse.js';
import type { WirehopError } from './codes.js';

describe('SSE serializer', () => {
  it('writes id, event and one data field per line, whatever the line break', () => {
    expect(sseEvent({ id: 3, event: 'message', data: 'a\nb\r\nc\rd' })).toBe(
      'id: 3\nevent: message\ndata: a\ndata: b\ndata: c\ndata: d\n\n',
    );
    expect(sseEvent({ data: '' })).toBe('data: \n\n');
  });

  it('refuses line breaks in id and event, which the spec cannot escape', () => {
    expect(() => sseEvent({ id: '1\n2', data: 'x' })).toThrow(/id/);
    expect(() => sseEvent({ event: 'a\rb', data: 'x' })).toThrow(/event/);
  });

  it('writes comments, retry and frames', () => {
    expect(sseComment('hb')).toBe(': hb\n\n');
    expect(sseComment()).toBe(':\n\n');
    expect(sseComment('a\nb')).toBe(': a\n: b\n\n');
    expect(sseRetry(1000)).toBe('retry: 1000\n\n');
    expect(sseFrame(7, 'event', '[10,7,"c","e",1]')).toBe('id: 7\nevent: event\ndata: [10,7,"c","e",1]\n\n');
  });
});

const FRAMES: ServerFrame[] = [
  { type: 'welcome', v: 1, sid: 's', resumed: true, ack: 0, heartbeatMs: 15000, heartbeatTimeoutMs: 10000, sessionTtlMs: 30000, maxMessageBytes: 65536 },
  { type: 'event', seq: 1, channel: 'room:1', event: 'message', data: { text: 'multi\nline\r\ntext', emoji: '😀' }, offset: 1 },
  { type: 'message', seq: 2, event: 'notice', data: 'x'.repeat(3000) },
  { type: 'reply', seq: 3, re: 1, data: null },
  { type: 'bye', code: 'session_expired', message: 'gone', ack: 4 },
];

function stream(): string {
  let text = sseRetry(1000) + ': hb\n\n';
  let id = 0;
  for (const frame of FRAMES) {
    if ('seq' in frame) id = frame.seq;
    text += sseFrame(id, frame.type, encodeFrame(frame));
    text += sseComment('hb');
  }
  // a CRLF-delimited event too: readers must accept any line ending
  text += 'id: 4\r\nevent: pong\r\ndata: [22,5]\r\n\r\n';
  return text;
}

function parseInChunks(text: string, split: (text: string) => string[]) {
  const frames: Array<[ServerFrame, string | undefined]> = [];
  const errors: WirehopError[] = [];
  let activity = 0;
  const parser = createSseFrameParser({
    onFrame: (frame, id) => frames.push([frame, id]),
    onError: (err) => errors.push(err),
    onActivity: () => activity++,
  });
  for (const chunk of split(text)) parser.feed(chunk);
  return { frames, errors, activity };
}

describe('SSE frame parser', () => {
  const expected = [...FRAMES.map((f, i) => [f, String(i === 0 ? 0 : Math.min(i, 3))]), [{ type: 'pong', n: 5 }, '4']];

  it('parses a stream fed whole', () => {
    const { frames, errors, activity } = parseInChunks(stream(), (t) => [t]);
    expect(errors).toEqual([]);
    expect(frames).toEqual(expected);
    expect(activity).toBe(FRAMES.length + 2); // retry + comments
  });

  it('parses the same stream fed one character at a time', () => {
    const { frames, errors } = parseInChunks(stream(), (t) => [...t]);
    expect(errors).toEqual([]);
    expect(frames).toEqual(expected);
  });

  it('parses the same stream split at random points (100 splittings)', () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 100; round++) {
      const { frames, errors } = parseInChunks(stream(), (t) => {
        const chunks: string[] = [];
        let i = 0;
        while (i < t.length) {
          const n = 1 + Math.floor(rand() * 200);
          chunks.push(t.slice(i, i + n));
          i += n;
        }
        return chunks;
      });
      expect(errors).toEqual([]);
      expect(frames).toEqual(expected);
    }
  });

  it('reports an invalid frame as an error and stops', () => {
    const { frames, errors } = parseInChunks('data: [10,1]\n\ndata: [22,1]\n\n', (t) => [t]);
    expect(frames).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['bad_frame']);
  });

  it('bounds an endless event instead of buffering it', () => {
    const errors: WirehopError[] = [];
    const parser = createSseFrameParser({ onFrame: () => {}, onError: (e) => errors.push(e), maxEventBytes: 1000 });
    parser.feed('data: [11,1,"e","');
    for (let i = 0; i < 10 && errors.length === 0; i++) parser.feed('x'.repeat(500));
    expect(errors.map((e) => e.code)).toEqual(['message_too_large']);
  });

  it('does not count many complete small events against the bound', () => {
    const errors: WirehopError[] = [];
    let n = 0;
    const parser = createSseFrameParser({ onFrame: () => n++, onError: (e) => errors.push(e), maxEventBytes: 100 });
    let chunk = '';
    for (let i = 1; i <= 200; i++) chunk += sseFrame(i, 'pong', `[22,${i}]`);
    parser.feed(chunk);
    expect(errors).toEqual([]);
    expect(n).toBe(200);
  });
});
