/**
 * The SSE transport over HTTP/2 (docs/deploy.md): wirehop mounted on a Hono app served by
 * @hono/node-server on Node's `http2.createSecureServer` (self-signed certificate, `allowHTTP1`), and
 * clients in Node whose injected `fetch` is undici's with HTTP/2 allowed. Many clients' event streams
 * and POSTs share one connection, which is why SSE over HTTP/2 escapes the browsers' limit of six
 * HTTP/1.1 connections per origin.
 */
import { Agent, fetch as undiciFetch, type Dispatcher, type RequestInit as UndiciRequestInit } from 'undici';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createClient, type WirehopClient } from '@wirehop/client';
import type { Wirehop } from '@wirehop/server';
import { startH2Server, type Seen } from './helpers/h2-server.js';
import { selfSignedCertificate, type TestCertificate } from './helpers/tls.js';
import { nextEvent, waitFor } from './helpers/wait.js';

let certificate: TestCertificate | undefined;
beforeAll(async () => {
  certificate = await selfSignedCertificate();
});
afterAll(async () => {
  await certificate?.remove();
});

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** What the server saw: TLS connections, HTTP/2 sessions on them, and every request's HTTP version. */
/** wirehop on HTTP/2 with TLS (test/helpers/h2-server.ts); `url` is its wirehop path. */
async function startH2(): Promise<{ wh: Wirehop; url: string; seen: Seen }> {
  const server = await startH2Server(certificate!);
  cleanup.push(() => server.close());
  return { wh: server.wh, url: server.origin + server.wh.path, seen: server.seen };
}

/**
 * undici (7.x) starts a request on an HTTP/2 connection that already carries one only if the
 * request could be retried safely: idempotent (so not a POST) and with a body of known length (its
 * fetch streams every body). An open event stream keeps the connection busy for good, so wirehop's
 * POSTs would wait forever. This interceptor reads the body (one small NDJSON batch) into a Buffer
 * and marks the request idempotent, which only lifts that wait: undici's core never retries on its
 * own. Browsers multiplex POSTs beside streams as they are.
 */
const multiplexPosts: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const body = opts.body;
  if (body == null || typeof body === 'string' || body instanceof Uint8Array) return dispatch({ ...opts, idempotent: true }, handler);
  void (async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
    dispatch({ ...opts, body: Buffer.concat(chunks), idempotent: true }, handler);
  })().catch((error: Error) => handler.onError?.(error));
  return true;
};

/** The client's `fetch` option: undici's fetch through `dispatcher` (Node 20's global fetch cannot do HTTP/2). */
function fetchThrough(dispatcher: Dispatcher): typeof fetch {
  return ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher })) as unknown as typeof fetch;
}

/**
 * One connection to the server, trusting the test certificate: with `connections: 1` undici never
 * opens a second. `pipelining` is how many requests undici runs at once on a connection (default 1,
 * over HTTP/2 too): up to the server's 100 concurrent streams for h2, the default for HTTP/1.1.
 */
function oneConnection(h2: boolean): Dispatcher {
  const agent = new Agent({ allowH2: h2, connections: 1, ...(h2 ? { pipelining: 100 } : {}), connect: { ca: certificate!.cert } });
  cleanup.push(() => agent.destroy());
  return h2 ? agent.compose(multiplexPosts) : agent;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

it('10 SSE clients share one HTTP/2 connection, and events flow both ways on every one of them', async () => {
  const N = 10;
  const { wh, url, seen } = await startH2();
  wh.channel('news');
  wh.channel('room', { publish: true });
  wh.onRequest('echo', (d) => d);
  const messages: Array<{ session: string; data: unknown }> = [];
  wh.onMessage('hello', (data, s) => void messages.push({ session: s.id, data }));

  // As a browser does over HTTP/2: one connection for the origin, shared by every tab.
  const agent = oneConnection(true);
  const clients: WirehopClient[] = range(N).map(() => createClient({ url, transports: ['sse'], fetch: fetchThrough(agent) }));
  cleanup.push(() => clients.forEach((c) => c.close()));
  const news = clients.map(() => [] as unknown[]);
  const room = clients.map(() => [] as unknown[]);
  clients.forEach((c, i) => {
    c.channel('news').on('item', (d) => news[i]!.push(d));
    c.channel('room').on('say', (d) => room[i]!.push(d));
  });
  await Promise.all(clients.map((c) => c.connect()));
  await Promise.all(clients.flatMap((c) => [c.channel('news').subscribe(), c.channel('room').subscribe()]));
  // Every session's event stream is open at once.
  for (const c of clients) {
    expect(c.transport).toBe('sse');
    expect(wh.session(c.sessionId!)?.transport).toBe('sse');
  }

  // Down: server publications, and a message to each session.
  for (let k = 0; k < 5; k++) await wh.publish('news', 'item', k);
  const notices = clients.map((c) => nextEvent<[string, unknown]>((l) => c.on('message', l), { what: 'a notice' }));
  clients.forEach((c, i) => wh.session(c.sessionId!)!.send('notice', i));
  expect(await Promise.all(notices)).toEqual(range(N).map((i) => ['notice', i]));
  // Up: messages and requests from each client; up and across: each publishes to all the others.
  await Promise.all(clients.map((c, i) => c.send('hello', i)));
  await expect(Promise.all(clients.map((c, i) => c.request('echo', i)))).resolves.toEqual(range(N));
  await Promise.all(clients.map((c, i) => c.channel('room').publish('say', i)));

  await waitFor(() => news.every((n) => n.length === 5) && room.every((r) => r.length === N), { what: 'every event at every client' });
  for (const n of news) expect(n).toEqual(range(5));
  for (const r of room) expect(r).toEqual(room[0]); // one order for every subscriber
  expect([...(room[0] as number[])].sort((a, b) => a - b)).toEqual(range(N));
  expect(new Set(messages.map((m) => m.session)).size).toBe(N);
  expect(messages.map((m) => m.data as number).sort((a, b) => a - b)).toEqual(range(N));

  // All of it travelled over one TLS connection carrying one HTTP/2 session.
  expect(seen.tlsConnections).toBe(1);
  expect(seen.h2Sessions).toBe(1);
  expect(new Set(seen.requests.map((r) => r.version))).toEqual(new Set(['2.0']));
  expect(seen.requests.filter((r) => r.method === 'GET' && r.path === '/wirehop/sse')).toHaveLength(N);
  expect(seen.requests.filter((r) => r.method === 'POST' && r.path === '/wirehop/send').length).toBeGreaterThanOrEqual(N);
});

it('control: over HTTP/1.1, one connection cannot carry even one SSE client: its stream holds the connection, so its POSTs never leave', async () => {
  // The browsers' six HTTP/1.1 connections per origin, in miniature: each open event stream takes
  // one connection for good, and a page's POSTs queue behind the streams.
  const { wh, url, seen } = await startH2();
  wh.onRequest('echo', (d) => d);
  const agent = oneConnection(false);
  const c = createClient({ url, transports: ['sse'], fetch: fetchThrough(agent), requestTimeoutMs: 1_000 });
  cleanup.push(() => c.close());
  await c.connect(); // the WELCOME comes down the stream...
  await expect(c.request('echo', 1)).rejects.toMatchObject({ code: 'timeout' }); // ...the request never goes up
  expect(new Set(seen.requests.map((r) => r.version))).toEqual(new Set(['1.1']));
  expect(seen.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /wirehop/session', 'GET /wirehop/sse']);
});

it('WebSocket upgrades work on the same port, over the HTTP/1.1 that allowHTTP1 keeps', async () => {
  const { wh, url, seen } = await startH2();
  wh.onRequest('echo', (d) => d);
  /** `ws`, trusting the test certificate. */
  class TrustingWebSocket extends WebSocket {
    constructor(address: string, options: WebSocket.ClientOptions = {}) {
      super(address, { ...options, ca: certificate!.cert });
    }
  }
  const c = createClient({ url, transports: ['websocket'], WebSocket: TrustingWebSocket as never });
  cleanup.push(() => c.close());
  await c.connect();
  expect(c.transport).toBe('websocket');
  await expect(c.request('echo', 'over wss')).resolves.toBe('over wss');
  expect(seen.h2Sessions).toBe(0);
});
