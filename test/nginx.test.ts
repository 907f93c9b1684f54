/**
 * wirehop behind a real nginx, configured exactly as docs/deploy.md shows: a proxy without
 * WebSocket support leaves clients on SSE + POST, the full config carries WebSockets, SSE streams are
 * not buffered (thanks to the server's `X-Accel-Buffering: no`, with proxy_buffering left on), and
 * heartbeats keep silent sessions alive through the proxy's idle timeout.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientOptions, WirehopClient } from '@wirehop/client';
import type { ServerOptions } from '@wirehop/server';
import { startFixture, TRANSPORTS, type Fixture } from './helpers/fixture.js';
import { nginxSite, startNginx, type Nginx, type NginxMode, type StartNginxOptions } from './helpers/nginx.js';
import { rawHandshake, rawSse, rawWs } from './helpers/raw.js';
import { nextEvent, waitFor } from './helpers/wait.js';

const MODES: NginxMode[] = ['no-upgrade', 'websocket'];

let fx: Fixture | undefined;
let nginx: Nginx | undefined;
let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
  await fx?.close();
  fx = undefined;
  await nginx?.close();
  nginx = undefined;
});

/** How each session was created: its transport, and the X-Forwarded-For that only nginx adds. */
interface Arrival {
  transport: 'websocket' | 'sse';
  forwardedFor: string | null;
}

/** A wirehop server with nginx in front of it. Users are named by the client's `auth`. */
async function behindNginx(nginxOptions: Omit<StartNginxOptions, 'upstreamPort'>, serverOptions: ServerOptions = {}) {
  const arrivals: Arrival[] = [];
  fx = await startFixture({
    authenticate: ({ auth, transport, headers }) => {
      arrivals.push({ transport, forwardedFor: headers.get('x-forwarded-for') });
      return { id: typeof auth === 'string' ? auth : 'anonymous' };
    },
    ...serverOptions,
  });
  nginx = await startNginx({ ...nginxOptions, upstreamPort: Number(new URL(fx.url).port) });
  const url = nginx.url;
  return { fx, nginx, arrivals, client: (options: Partial<ClientOptions> = {}) => fx!.client({ url, ...options }) };
}

/** Everything an application does, both ways, between two connected clients: all must work through the proxy. */
async function exercise(server: Fixture, a: WirehopClient, b: WirehopClient) {
  server.wh.channel('room:*', { publish: true });
  server.wh.onRequest('add', (d) => (d as number[]).reduce((x, y) => x + y, 0));
  const notes: Array<[string, unknown]> = [];
  server.wh.onMessage('note', (d, s) => void notes.push([s.user.id, d]));

  const seenByB: unknown[] = [];
  b.channel('room:1').on('*', (event, data) => seenByB.push([event, data]));
  await a.channel('room:1').subscribe();
  await b.channel('room:1').subscribe();

  await server.wh.publish('room:1', 'news', { from: 'server' });
  await a.channel('room:1').publish('say', { from: 'a' });
  await waitFor(() => seenByB.length === 2, { what: 'the server and client publications to reach b' });
  expect(seenByB).toEqual([
    ['news', { from: 'server' }],
    ['say', { from: 'a' }],
  ]);

  await expect(a.request('add', [1, 2, 3])).resolves.toBe(6);
  await a.send('note', 'up');
  expect(notes).toEqual([['a', 'up']]);

  const down = nextEvent<[string, unknown]>((l) => a.on('message', l), { what: 'a server message to reach a' });
  server.wh.session(a.sessionId!)!.send('notice', 'down');
  expect(await down).toEqual(['notice', 'down']);
}

describe('the two nginx configs', () => {
  it('no-upgrade: a client with default transports lands on SSE, and everything works both ways', async () => {
    const { fx, nginx, arrivals, client } = await behindNginx({ mode: 'no-upgrade' });
    const a = client({ auth: 'a' });
    const b = client({ auth: 'b' });
    await Promise.all([a.connect(), b.connect()]);
    expect([a.transport, b.transport]).toEqual(['sse', 'sse']);
    expect(fx.wh.session(a.sessionId!)?.transport).toBe('sse');
    await exercise(fx, a, b);
    // Both sessions came through nginx; the WebSocket attempts reached wirehop as plain GETs (no
    // Upgrade header) and got the 400 that tells a client at once to use SSE.
    expect(arrivals).toEqual([
      { transport: 'sse', forwardedFor: '127.0.0.1' },
      { transport: 'sse', forwardedFor: '127.0.0.1' },
    ]);
    expect(await nginx.accessLog()).toMatch(/"GET \/wirehop\/ws HTTP\/1\.1" 400 /);
  });

  it('websocket: clients use WebSocket through the proxy, and everything works both ways', async () => {
    const { fx, arrivals, client } = await behindNginx({ mode: 'websocket' });
    const a = client({ auth: 'a' });
    const b = client({ auth: 'b' });
    await Promise.all([a.connect(), b.connect()]);
    expect([a.transport, b.transport]).toEqual(['websocket', 'websocket']);
    expect(fx.wh.session(a.sessionId!)?.transport).toBe('websocket');
    await exercise(fx, a, b);
    expect(arrivals).toEqual([
      { transport: 'websocket', forwardedFor: '127.0.0.1' },
      { transport: 'websocket', forwardedFor: '127.0.0.1' },
    ]);
  });

  it('the same-origin check works through nginx, which forwards Host with its port ($http_host)', async () => {
    const { nginx } = await behindNginx({ mode: 'websocket' });
    // What a browser on a page served by this nginx sends, and what another site's page sends.
    const page = `http://127.0.0.1:${nginx.port}`;
    const other = 'https://elsewhere.example';
    expect((await rawHandshake(nginx.url, undefined, { origin: page })).status).toBe(200);
    expect((await rawHandshake(nginx.url, undefined, { origin: other })).json).toMatchObject({ error: { code: 'forbidden_origin' } });
    const ws = await rawWs(nginx.url, { origin: page });
    cleanup.push(() => ws.ws.terminate());
    await expect(rawWs(nginx.url, { origin: other })).rejects.toMatchObject({ status: 403 });
  });

  it('docs/deploy.md shows both configs verbatim', async () => {
    const doc = await readFile(new URL('../docs/deploy.md', import.meta.url), 'utf8');
    const example = { listen: '80', upstream: 'http://127.0.0.1:3000', location: '/wirehop/', readTimeout: '60s' };
    for (const mode of MODES) expect(doc).toContain('```nginx\n' + nginxSite(mode, example) + '```');
  });
});

describe('SSE through nginx is not buffered', () => {
  // The acceptance criterion for unbuffered streaming: each event within 100 ms of publish,
  // end to end through nginx on loopback (a direct hop takes about a millisecond). Both configs keep
  // proxy_buffering on; the server's X-Accel-Buffering: no is what lets each event through at once.
  it.each(MODES)('%s: each of 20 events reaches an SSE client < 100 ms after wh.publish', async (mode) => {
    const { fx, client } = await behindNginx({ mode });
    fx.wh.channel('ticks');
    const c = client({ transports: ['sse'] });
    await c.connect();
    await c.channel('ticks').subscribe();
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      // One event at a time, the next published only once the last arrived: each is alone in the
      // pipe, as on a quiet channel, where a buffer that waits to fill hurts most.
      const arrived = nextEvent<[unknown]>((l) => c.channel('ticks').on('tick', l), { timeoutMs: 5_000, what: `tick ${i}` });
      const sent = performance.now();
      await fx.wh.publish('ticks', 'tick', { i });
      const [data] = await arrived;
      delays.push(performance.now() - sent);
      expect(data).toEqual({ i });
    }
    expect(Math.max(...delays), `publish → arrival delays (ms): ${delays.map((d) => d.toFixed(1)).join(', ')}`).toBeLessThan(100);
  });

  it('control: through nginx told to ignore X-Accel-Buffering, a plain proxy_pass holds the stream until its buffers fill', async () => {
    // Proves that the test above can fail, and that the header is what unbuffers the stream. With
    // a plain proxy_pass nginx reads the answer over HTTP/1.0, to the end of the connection, and
    // passes on only full buffers (4–8 KiB each) while buffering is on: a quiet stream never
    // arrives. (Over HTTP/1.1, chunked, nginx 1.22 happens to pass chunks on as they come even
    // while buffering; it still spools a slow client's backlog to memory and temp files then,
    // hiding it from wirehop's flow control. The header avoids both.)
    const { fx, nginx } = await behindNginx({ mode: 'no-upgrade', extra: ['proxy_ignore_headers X-Accel-Buffering;'] });
    const hello = await rawHandshake(nginx.url);
    expect(hello.status).toBe(200);
    const { sid, token } = hello.json[1] as { sid: string; token: string };
    // Not awaited: nginx holds back even the answer's headers until it sends body bytes.
    const opening = rawSse(nginx.url, { 'x-wirehop-session': sid, 'x-wirehop-token': token });
    fx.wh.session(sid)!.send('small', 1);
    // Nothing comes out, not even the headers, for 10× the budget above.
    await expect(withDeadline(opening, 1_000, 'the SSE answer')).rejects.toThrow(/timed out/);
    // A message larger than all of nginx's buffers together pushes the first ones out.
    fx.wh.session(sid)!.send('large', 'x'.repeat(60_000));
    const sse = await opening;
    cleanup.push(() => sse.abort());
    expect(sse.response.status).toBe(200);
    await waitFor(() => sse.frames.length >= 2, { what: 'the held-back frames' });
    expect(sse.frames.slice(0, 2)).toMatchObject([{ type: 'welcome' }, { type: 'message', event: 'small', data: 1 }]);
  });
});

describe('idle timeouts: heartbeats keep silent sessions alive through the proxy', () => {
  // Time is scaled. The issue asks for 5 minutes of silence behind a proxy whose idle timeout is
  // under a minute (say 30 s), with heartbeats below it. Here the proxy's idle timeout
  // (proxy_read_timeout) is 2 s, wirehop's heartbeat a quarter of it (500 ms: like 15 s under 60 s)
  // and the silence 10× the timeout (20 s: like 5 min under 30 s). The ratios that decide the
  // outcome are the same; the suite stays fast.
  const PROXY_TIMEOUT_MS = 2_000;
  const HEARTBEAT_MS = PROXY_TIMEOUT_MS / 4;
  const SILENCE_MS = PROXY_TIMEOUT_MS * 10;
  const proxy = { mode: 'websocket', readTimeout: `${PROXY_TIMEOUT_MS}ms` } as const;

  describe.each(TRANSPORTS)('%s', (transport) => {
    it(`control: without heartbeats, nginx cuts a silent ${transport} connection after its ${PROXY_TIMEOUT_MS} ms timeout`, async () => {
      // Heartbeats far apart, and raw clients that send nothing: the connection is truly idle.
      const { nginx } = await behindNginx(proxy, { heartbeatMs: 60_000 });
      let idleSince: number;
      let cut: Promise<unknown>;
      if (transport === 'websocket') {
        const ws = await rawWs(nginx.url);
        cleanup.push(() => ws.ws.terminate());
        ws.send({ type: 'hello', v: 1 });
        await ws.next('welcome');
        idleSince = performance.now();
        cut = ws.closed;
      } else {
        const hello = await rawHandshake(nginx.url);
        const { sid, token } = hello.json[1] as { sid: string; token: string };
        const sse = await rawSse(nginx.url, { 'x-wirehop-session': sid, 'x-wirehop-token': token });
        cleanup.push(() => sse.abort());
        await waitFor(() => sse.frames.length > 0, { what: 'the welcome event' });
        idleSince = performance.now();
        cut = sse.ended;
      }
      await withDeadline(cut, PROXY_TIMEOUT_MS * 5, 'nginx to cut the idle connection');
      expect(performance.now() - idleSince).toBeGreaterThan(PROXY_TIMEOUT_MS * 0.9);
      expect(await nginx.errorLog()).toMatch(/upstream timed out/);
    });

    it(
      `a ${transport} session with ${HEARTBEAT_MS} ms heartbeats stays up through ${SILENCE_MS / 1000} s of silence: same session, no reconnect`,
      async () => {
        const { fx, nginx, client } = await behindNginx(proxy, { heartbeatMs: HEARTBEAT_MS });
        fx.wh.channel('quiet');
        fx.wh.onRequest('echo', (d) => d);
        const c = client({ transports: [transport] });
        await c.connect();
        await c.channel('quiet').subscribe();
        const sid = c.sessionId;

        // Anything the client reports during the silence is a failure, and ends the silence early.
        const trouble: string[] = [];
        let cutShort = () => {};
        const troubled = new Promise<void>((resolve) => (cutShort = resolve));
        const note = (why: string) => {
          trouble.push(why);
          cutShort();
        };
        c.on('state', (e) => note(`state ${e.from} → ${e.to} (${e.reason})`));
        c.on('transport', (e) => note(`transport ${e.from} → ${e.to} (${e.reason})`));
        c.on('gap', (g) => note(`gap ${g.code}`));
        c.on('error', (e) => note(`error ${e.code}: ${e.message}`));

        // The silence is what is being tested, not a wait for something to happen.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, SILENCE_MS))), troubled]);
        clearTimeout(timer);

        expect(trouble).toEqual([]);
        expect(c.state).toBe('connected');
        expect(c.sessionId).toBe(sid);
        expect(c.stats.reconnects).toBe(0);
        expect(c.transport).toBe(transport);
        expect(fx.wh.session(sid!)?.transport).toBe(transport);
        // ...and it still carries traffic both ways.
        const got = nextEvent<[unknown]>((l) => c.channel('quiet').on('after', l));
        fx.wh.publish('quiet', 'after', 'silence');
        expect(await got).toEqual(['silence']);
        await expect(c.request('echo', 'still here')).resolves.toBe('still here');
        expect(await nginx.errorLog()).not.toMatch(/timed out/);
      },
      SILENCE_MS + 20_000,
    );
  });
});

/** `promise`, or a rejection naming `what` after `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
