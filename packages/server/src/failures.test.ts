/**
 * Real-socket tests of what happens when things go wrong: slow readers, silent peers, expired
 * sessions, shutdown, and application callbacks that throw. Each waits for the frame or close
 * event it expects; none sleeps.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { decodeServerFrame, encodeFrame, hello, WirehopError, type ServerFrame } from '@wirehop/protocol';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWirehop } from './index.js';
import type { ListeningServer, ServerOptions, Wirehop } from './types.js';

let server: ListeningServer | undefined;
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await server?.close();
  server = undefined;
});

async function start(options: ServerOptions = {}): Promise<{ wh: Wirehop; url: string; errors: Array<{ error: unknown; phase: string }> }> {
  const errors: Array<{ error: unknown; phase: string }> = [];
  const wh = createWirehop({ onError: (error, where) => void errors.push({ error, phase: where.phase }), ...options });
  wh.channel('news');
  server = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  return { wh, url: server.url, errors };
}

/** Opens a WebSocket, sends `first`, and collects frames; resolves `closed` with the close code. */
function connect(url: string, first: string) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws');
  cleanups.push(() => ws.terminate());
  const frames: ServerFrame[] = [];
  const listeners = new Set<() => void>();
  ws.on('open', () => ws.send(first));
  ws.on('message', (data) => {
    const decoded = decodeServerFrame(data.toString());
    if (decoded.ok) frames.push(decoded.frame);
    listeners.forEach((l) => l());
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const until = <T>(check: () => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        const value = check();
        if (value !== undefined) (listeners.delete(run), resolve(value));
      };
      listeners.add(run);
      void closed.then(() => setImmediate(() => listeners.has(run) && reject(new Error(`closed; frames: ${JSON.stringify(frames)}`))));
      run();
    });
  const frame = <T extends ServerFrame['type']>(type: T) => until(() => frames.find((f): f is Extract<ServerFrame, { type: T }> => f.type === type));
  return { ws, frames, closed, frame, until };
}

describe('slow readers and session ends', () => {
  it('a reader that stops reading is cut off with replay_overflow; a late resume learns the ack', async () => {
    const { wh, url } = await start({ limits: { replayBufferBytes: 128 * 1024, highWaterMarkBytes: 16 * 1024 } });
    wh.onMessage('n', () => undefined);
    const c = connect(url, encodeFrame(hello()));
    const welcome = await c.frame('welcome');
    c.ws.send('[1,1,"news"]');
    c.ws.send('[4,2,"n",null]');
    await c.frame('reply');
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const ended = new Promise<string>((resolve) => wh.on('close', (_s, reason) => resolve(reason.code)));
    const payload = 'x'.repeat(1000);
    // Publish until the session goes; each round yields so the socket can fill up.
    while (wh.session(welcome.sid)) {
      for (let i = 0; i < 50; i++) wh.publish('news', 'item', payload);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await ended).toBe('replay_overflow');
    socket.resume();
    expect(await c.closed).toBe(4429);
    expect(c.frames.at(-1)).toMatchObject({ type: 'bye', code: 'replay_overflow', ack: 2 });

    const late = connect(url, encodeFrame(hello({ sid: welcome.sid, token: welcome.token!, ack: 0 })));
    expect(await late.frame('bye')).toMatchObject({ code: 'replay_overflow', ack: 2 });
    expect(await late.closed).toBe(4429);
  });

  it('an expired session answers BYE session_expired with its ack (WebSocket) and 410 (HTTP)', async () => {
    const { wh, url } = await start({ sessionTtlMs: 50 });
    wh.onMessage('n', () => undefined);
    const c = connect(url, encodeFrame(hello()));
    const welcome = await c.frame('welcome');
    const expired = new Promise<string>((resolve) => wh.on('close', (_s, reason) => resolve(reason.code)));
    c.ws.send('[4,1,"n",1]');
    await c.frame('ack');
    c.ws.terminate();
    expect(await expired).toBe('session_expired');
    const late = connect(url, encodeFrame(hello({ sid: welcome.sid, token: welcome.token!, ack: 0 })));
    expect(await late.frame('bye')).toMatchObject({ code: 'session_expired', ack: 1 });
    expect(await late.closed).toBe(4410);
    const sse = await fetch(url + '/sse', { headers: { 'x-wirehop-session': welcome.sid, 'x-wirehop-token': welcome.token! } });
    expect(sse.status).toBe(410);
    expect(await sse.json()).toMatchObject({ error: { code: 'session_expired', ack: 1 } });
  });

  it('a resume from before what the client acked replays from its ack: the session goes on', async () => {
    const { wh, url } = await start();
    const c = connect(url, encodeFrame(hello()));
    const welcome = await c.frame('welcome');
    const session = wh.session(welcome.sid)!;
    session.send('a');
    session.send('b');
    await c.until(() => (c.frames.filter((f) => f.type === 'message').length === 2 ? true : undefined));
    c.ws.send('[20,1]'); // acks 'a'; 'b' stays held
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closes: string[] = [];
    wh.on('close', (_s, reason) => void closes.push(reason.code));
    // A resume point fixed before that ack (a transport that set out earlier, protocol.md §6).
    const again = connect(url, encodeFrame(hello({ sid: welcome.sid, token: welcome.token!, ack: 0 })));
    expect(await again.frame('welcome')).toMatchObject({ resumed: true });
    // The replay starts after the ack: 'b' (seq 2) again, not 'a', which is freed.
    expect(await again.frame('message')).toMatchObject({ seq: 2, event: 'b' });
    session.send('c');
    await again.until(() => (again.frames.filter((f) => f.type === 'message').length === 2 ? true : undefined));
    expect(again.frames.filter((f) => f.type === 'message').map((f) => (f as { seq: number }).seq)).toEqual([2, 3]);
    expect(await c.closed).toBe(4001); // the first socket is superseded, the session goes on
    expect(closes).toEqual([]);
  });

  it('DELETE /session ends an SSE session at once', async () => {
    const { wh, url } = await start();
    const res = await fetch(url + '/session', { method: 'POST', body: encodeFrame(hello()) });
    const welcome = decodeServerFrame(await res.text());
    if (!welcome.ok || welcome.frame.type !== 'welcome') throw new Error('no welcome');
    const headers = { 'x-wirehop-session': welcome.frame.sid, 'x-wirehop-token': welcome.frame.token! };
    expect((await fetch(url + '/session', { method: 'DELETE', headers })).status).toBe(204);
    expect(wh.session(welcome.frame.sid)).toBeUndefined();
    const late = await fetch(url + '/send', { method: 'POST', headers, body: '[20,0]\n' });
    expect(await late.json()).toMatchObject({ error: { code: 'client_closed', ack: 0 } });
  });
});

describe('liveness', () => {
  it('a WebSocket that never sends HELLO is closed with 4408', async () => {
    const { url } = await start({ helloTimeoutMs: 30 });
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws');
    cleanups.push(() => ws.terminate());
    const error = new Promise<string>((resolve) => ws.on('message', (d) => resolve(d.toString())));
    expect(await new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))).toBe(4408);
    expect(await error).toContain('hello_timeout');
  });

  it('the server PINGs, and a peer that stays silent is closed with 4002 (the session lives on)', async () => {
    // Silence is fatal after heartbeatMs + heartbeatTimeoutMs: ten PING periods, so a PING always comes first.
    const { wh, url } = await start({ heartbeatMs: 20, heartbeatTimeoutMs: 200 });
    const c = connect(url, encodeFrame(hello()));
    const welcome = await c.frame('welcome');
    expect(await c.frame('ping')).toMatchObject({ type: 'ping' });
    expect(await c.closed).toBe(4002);
    expect(c.frames.at(-1)).toMatchObject({ type: 'error', code: 'heartbeat_timeout' });
    expect(wh.session(welcome.sid)).toBeDefined();
  });

  it('SSE gets comment heartbeats, and a stream with no POSTs is ended after the timeout', async () => {
    // The stream ends heartbeatMs + heartbeatTimeoutMs after the last word from the client: ten
    // heartbeat periods, so comments are written first however loaded the machine is.
    const { url } = await start({ heartbeatMs: 20, heartbeatTimeoutMs: 200 });
    const res = await fetch(url + '/session', { method: 'POST', body: encodeFrame(hello()) });
    const welcome = decodeServerFrame(await res.text());
    if (!welcome.ok || welcome.frame.type !== 'welcome') throw new Error('no welcome');
    const sse = await fetch(url + '/sse', { headers: { 'x-wirehop-session': welcome.frame.sid, 'x-wirehop-token': welcome.frame.token! } });
    const text = await sse.text(); // the server ends the stream
    expect(text.startsWith('retry: 1000\n\n')).toBe(true);
    expect(text).toContain('\n: hb\n\n');
    expect(text).toMatch(/event: error\ndata: \[23,"heartbeat_timeout"/);
  });
});

describe('application callbacks that throw', () => {
  it('become replyError / onError, and the session goes on', async () => {
    const { wh, url, errors } = await start();
    wh.channel('locked', { authorize: () => Promise.reject(new Error('db down')) });
    wh.onRequest('boom', () => {
      throw new Error('secret');
    });
    wh.onRequest('refuse', async () => {
      throw new WirehopError('forbidden', 'no');
    });
    wh.onMessage('bad', () => Promise.reject(new Error('async boom')));
    wh.on('subscribe', () => {
      throw new Error('listener boom');
    });
    const c = connect(url, encodeFrame(hello()));
    await c.frame('welcome');
    c.ws.send('[5,1,"boom",null]');
    c.ws.send('[5,2,"refuse",null]');
    c.ws.send('[1,3,"locked"]');
    c.ws.send('[4,4,"bad",null]');
    c.ws.send('[4,5,"unhandled",null]');
    c.ws.send('[1,6,"news"]');
    c.ws.send('[5,7,"missing",null]');
    const answers = await c.until(() => {
      const r = c.frames.filter((f) => f.type === 'reply' || f.type === 'replyError');
      return r.length === 5 ? r : undefined;
    });
    expect(answers).toEqual([
      expect.objectContaining({ re: 1, code: 'handler_error', message: 'the handler failed' }),
      expect.objectContaining({ re: 2, code: 'forbidden', message: 'no' }),
      expect.objectContaining({ re: 3, code: 'handler_error' }),
      expect.objectContaining({ type: 'reply', re: 6, data: expect.objectContaining({ presence: false }) }),
      expect.objectContaining({ re: 7, code: 'no_handler' }),
    ]);
    expect(errors.map((e) => e.phase).sort()).toEqual(['authorize', 'listener:subscribe', 'message', 'message', 'request']);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('authenticate: WirehopError keeps its code and status; anything else is a generic 401', async () => {
    const { url, errors } = await start({
      authenticate: ({ auth }) => {
        if (auth === 'teapot') throw new WirehopError('unauthorized', 'short and stout', { status: 418 });
        if (auth === 'crash') throw new Error('secret');
        return { id: String(auth) };
      },
    });
    const post = (auth: string) => fetch(url + '/session', { method: 'POST', body: encodeFrame(hello({ auth })) });
    const teapot = await post('teapot');
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toEqual({ error: { code: 'unauthorized', message: 'short and stout' } });
    const crash = await post('crash');
    expect(crash.status).toBe(401);
    expect(JSON.stringify(await crash.json())).not.toContain('secret');
    expect(errors.map((e) => e.phase)).toEqual(['authenticate']);
    const ws = connect(url, encodeFrame(hello({ auth: 'teapot' })));
    expect(await ws.frame('error')).toEqual({ type: 'error', code: 'unauthorized', message: 'short and stout' });
    expect(await ws.closed).toBe(4401);
  });
});

describe('shutdown and integration', () => {
  it('close() says BYE server_closing on every transport and lets the server stop', async () => {
    const { wh, url } = await start();
    const c = connect(url, encodeFrame(hello()));
    await c.frame('welcome');
    const res = await fetch(url + '/session', { method: 'POST', body: encodeFrame(hello()) });
    const welcome = decodeServerFrame(await res.text());
    if (!welcome.ok || welcome.frame.type !== 'welcome') throw new Error('no welcome');
    const sse = await fetch(url + '/sse', { headers: { 'x-wirehop-session': welcome.frame.sid, 'x-wirehop-token': welcome.frame.token! } });
    const sseText = sse.text();
    await wh.close();
    expect(await c.closed).toBe(4503);
    expect(c.frames.at(-1)).toMatchObject({ type: 'bye', code: 'server_closing' });
    expect(await sseText).toMatch(/event: bye\ndata: \[26,"server_closing"/);
    expect(wh.sessionCount).toBe(0);
    expect((await fetch(url + '/ping')).status).toBe(503);
  });

  it("attach() and mount() put wirehop on the application's own server, next to its routes", async () => {
    const wh = createWirehop({ path: '/rt', onError: () => undefined });
    const app = new Hono();
    app.get('/hello', (c) => c.text('hi'));
    wh.mount(app);
    const http: Server = createServer(getRequestListener(app.fetch));
    wh.attach(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await wh.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    });
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    expect(await (await fetch(base + '/hello')).text()).toBe('hi');
    expect((await fetch(base + '/rt/ping')).status).toBe(204);
    const c = connect(base + '/rt', encodeFrame(hello()));
    expect((await c.frame('welcome')).resumed).toBe(false);
  });

  it("at path '/', listen() serves the application's routes untouched and answers wrong methods as JSON", async () => {
    const app = new Hono();
    app.get('/page', (c) => c.text('page'));
    app.options('/page', (c) => c.text('app preflight'));
    const wh = createWirehop({ path: '/', origins: ['http://good.example'], onError: () => undefined });
    server = await wh.listen({ port: 0, hostname: '127.0.0.1', app });
    const base = `http://127.0.0.1:${server.port}`;
    expect(server.url).toBe(base);
    const page = await fetch(base + '/page', { headers: { origin: 'http://evil.example' } });
    expect(await page.text()).toBe('page');
    expect(await (await fetch(base + '/page', { method: 'OPTIONS' })).text()).toBe('app preflight');
    const wrong = await fetch(base + '/send');
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: { code: 'bad_request' } });
    const c = connect(base, encodeFrame(hello()));
    await c.frame('welcome');
  });
});
