/**
 * The SSE transport against a scripted fetch: one signal per request (a shared one would collect a
 * listener per POST for the transport's whole life), and closing aborts what is still open.
 */
import { encodeFrame, hello, type WelcomeFrame } from '@wirehop/protocol';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { fetchHttp } from '../http.js';
import { sse } from './sse.js';

const WELCOME: WelcomeFrame = { type: 'welcome', v: 1, sid: 'S', token: 'T', resumed: false, ack: 0, heartbeatMs: 15_000, heartbeatTimeoutMs: 10_000, sessionTtlMs: 30_000, maxMessageBytes: 65_536 };

function scriptedFetch() {
  const signals: AbortSignal[] = [];
  const bodies: string[] = [];
  const inits: RequestInit[] = [];
  let posts = 0;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    inits.push(init ?? {});
    if (init?.signal) signals.push(init.signal);
    if (url.endsWith('/session')) return new Response(encodeFrame(WELCOME), { status: 200 });
    if (url.endsWith('/sse')) {
      // WELCOME, then an open stream that says nothing more: it ends only when aborted.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`data: ${encodeFrame({ ...WELCOME, token: undefined })}\n\n`));
          init?.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }
    posts++;
    bodies.push(String(init?.body));
    return new Response(`[20,${posts}]\n`, { status: 200 });
  }) as typeof fetch;
  return { fetchFn, signals, bodies, inits, posts: () => posts };
}

/** An SSE transport on `fetchFn`, and the acks its POST answers carried. */
function open(fetchFn: typeof fetch) {
  const acks: number[] = [];
  const t = sse(
    { url: 'http://x/wirehop', hello: hello(), headers: {}, WebSocket: undefined, http: fetchHttp(fetchFn, 'include'), maxMessageBytes: 65_536 },
    { frame: (f) => f.type === 'ack' && acks.push(f.ack), alive: () => undefined, close: () => undefined },
  );
  return { t, acks };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(check()).toBe(true);
}

describe('sse transport requests', () => {
  it('gives every request its own signal, leaves no listener behind per POST, and aborts the stream on close', async () => {
    const { fetchFn, signals, posts } = scriptedFetch();
    const { t, acks } = open(fetchFn);
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

  it('puts frames sent in one task into one POST, and what comes while it is in flight into the next', async () => {
    const { fetchFn, signals, bodies, inits } = scriptedFetch();
    const { t, acks } = open(fetchFn);
    await until(() => signals.length >= 2);
    t.send(['[4,1,"n",1]']);
    t.send(['[20,7]', '[4,2,"n",2]']);
    t.send(['[4,3,"n",3]']);
    // In flight now: these wait for its answer, then leave together.
    await Promise.resolve();
    t.send(['[4,4,"n",4]']);
    t.send(['[4,5,"n",5]']);
    await until(() => acks.length === 2);
    expect(bodies).toEqual(['[4,1,"n",1]\n[20,7]\n[4,2,"n",2]\n[4,3,"n",3]\n', '[4,4,"n",4]\n[4,5,"n",5]\n']);
    // Requests fetch can send without cloning them first (see request() in sse.ts).
    expect(inits.map((i) => [i.redirect, i.window, i.cache])).toEqual(inits.map(() => ['error', null, 'no-store']));
    t.close(new Error('switching') as never);
  });
});

describe('a POST /session that is refused', () => {
  /** What the transport reports when POST /session answers `status` with `body`, subscribes behind the HELLO. */
  async function refusedWith(status: number, body: string) {
    const fetchFn = (async () => new Response(body, { status })) as typeof fetch;
    const seen: string[] = [];
    sse(
      { url: 'http://x/wirehop', hello: hello(), early: () => ['[1,1,"room",null]'], headers: {}, WebSocket: undefined, http: fetchHttp(fetchFn, 'include'), maxMessageBytes: 65_536 },
      { frame: () => undefined, alive: () => undefined, close: (e) => void seen.push(`close ${e.code}`), unsent: () => void seen.push('unsent') },
    );
    await until(() => seen.some((s) => s.startsWith('close')));
    return seen;
  }

  it('by the server applied nothing behind the HELLO', async () => {
    expect(await refusedWith(503, JSON.stringify({ error: { code: 'server_busy', message: 'full', retryMs: 100 } }))).toEqual(['unsent', 'close server_busy']);
  });

  it('by a proxy may have reached the server: nothing is said', async () => {
    expect(await refusedWith(502, 'bad gateway')).toEqual(['close transport_failed']);
  });
});
