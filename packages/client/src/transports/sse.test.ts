/**
 * The SSE transport against a scripted fetch: one signal per request (a shared one would collect a
 * listener per POST for the transport's whole life), and closing aborts what is still open.
 */
import { encodeFrame, hello, type ServerFrame } from '@wirehop/protocol';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sse } from './sse.js';

const WELCOME: ServerFrame = { type: 'welcome', v: 1, sid: 'S', token: 'T', resumed: false, ack: 0, heartbeatMs: 15_000, heartbeatTimeoutMs: 10_000, sessionTtlMs: 30_000, maxMessageBytes: 65_536 };

function scriptedFetch() {
  const signals: AbortSignal[] = [];
  let posts = 0;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (init?.signal) signals.push(init.signal);
    if (url.endsWith('/session')) return new Response(encodeFrame(WELCOME), { status: 200 });
    if (url.endsWith('/sse')) {
      // An open stream that says nothing more: it ends only when aborted.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          init?.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }
    posts++;
    return new Response(`[20,${posts}]\n`, { status: 200 });
  }) as typeof fetch;
  return { fetchFn, signals, posts: () => posts };
}

describe('sse transport requests', () => {
  it('gives every request its own signal, leaves no listener behind per POST, and aborts the stream on close', async () => {
    const { fetchFn, signals, posts } = scriptedFetch();
    const acks: number[] = [];
    const t = sse(
      { url: 'http://x/wirehop', hello: hello(), headers: {}, WebSocket: undefined, fetch: fetchFn, maxMessageBytes: 65_536 },
      { frame: (f) => f.type === 'ack' && acks.push(f.ack), alive: () => undefined, close: () => undefined },
    );
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
      expect(check()).toBe(true);
    };
    await until(() => signals.length >= 2); // POST /session, GET /sse
    for (let i = 1; i <= 50; i++) {
      t.send([`[4,${i},"n",${i}]`]);
      await until(() => acks.length === i);
    }
    expect(posts()).toBe(50);
    expect(new Set(signals).size).toBe(signals.length);
    // What stays registered on each finished request's signal is only what fetch itself added.
    expect(Math.max(...signals.slice(2).map((s) => getEventListeners(s, 'abort').length))).toBeLessThanOrEqual(1);
    const stream = signals[1]!;
    expect(stream.aborted).toBe(false);
    t.close(new Error('switching') as never);
    expect(stream.aborted).toBe(true);
  });
});
