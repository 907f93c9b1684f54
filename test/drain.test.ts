/**
 * A rolling restart (docs/scaling.md, "Rolling restarts"): a node that closes with a distributed
 * broker lets its sessions go to the other nodes instead of ending them. Two wirehop servers in
 * this process on one real Redis, behind the round-robin TCP balancer or a real nginx; wirehop
 * clients on each transport keep publishing and sending while the node they are on closes. Then
 * what a draining node says on the wire (HTTP/1.1 and HTTP/2), and how it paces the let-go.
 */
import { createClient, type WirehopClient } from '@wirehop/client';
import { PROTOCOL_VERSION, encodeFrame } from '@wirehop/protocol';
import { createRedisBroker } from '@wirehop/redis';
import type { Server } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createWirehop, type ListeningServer, type Wirehop } from '@wirehop/server';
import { Hono } from 'hono';
import { expect, it } from 'vitest';
import { startBalancer, type Balancer } from './helpers/balancer.js';
import { startH2Server } from './helpers/h2-server.js';
import { startNginx } from './helpers/nginx.js';
import { rawHandshake, rawSend, rawWs } from './helpers/raw.js';
import { redisPerFile } from './helpers/redis-per-file.js';
import { startRedis } from './helpers/redis.js';
import { selfSignedCertificate } from './helpers/tls.js';
import { nextEvent, waitFor } from './helpers/wait.js';

const EVENTS = 300;
const NOTES = 150;

const redis = redisPerFile();

interface Node {
  wh: Wirehop;
  /** listen()'s server, or the application's own that wirehop is mounted on (`mounted`). */
  listening: Pick<ListeningServer, 'port' | 'url' | 'server' | 'close'>;
  /** `note` messages as this node's handler got them: user → the `j` of each, in order. */
  notes: Map<string, number[]>;
  /** How sessions ended here. */
  ended: string[];
  /** What onError got here: phase and message. */
  errors: string[];
}

/** An application's own Hono app and Node server with wirehop mounted on it: wirehop does not own its listening. */
async function mounted(wh: Wirehop): Promise<Node['listening']> {
  const app = new Hono();
  wh.mount(app);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  wh.attach(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    await wh.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { port, url: `http://127.0.0.1:${port}${wh.path}`, server, close };
}

async function startNode(nodeId: string, prefix: string, drainMs?: number, mount = false, joinDelayMs = 0): Promise<Node> {
  // A node that looks dead to a draining one is not handed sessions: they end with server_closing.
  // With a TTL of 2 s, a test process stalled for 1.3 s under the full suite's load (files run in
  // parallel on two cores) let that happen. Nodes here leave on close, so no test waits for a TTL.
  const broker = createRedisBroker({ url: redis.url, prefix, nodeId, nodeTtlMs: 10_000 });
  if (joinDelayMs > 0) {
    // A slow broker, for joins only: presence taken over late by the node a session moves to.
    const join = broker.presenceAdd.bind(broker);
    broker.presenceAdd = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, joinDelayMs));
      return join(...args);
    };
  }
  const notes = new Map<string, number[]>();
  const ended: string[] = [];
  const errors: string[] = [];
  const wh = createWirehop({
    broker,
    drainMs,
    authenticate: ({ auth }) => ({ id: (auth as { user: string }).user }),
    onError: (error, { phase }) => void errors.push(`${phase}: ${(error as Error)?.message}`),
  })
    .channel('room:*', { publish: true, presence: true })
    .onMessage('note', (data, session) => {
      let list = notes.get(session.user.id);
      if (!list) notes.set(session.user.id, (list = []));
      list.push((data as { j: number }).j);
    })
    .on('close', (_session, reason) => void ended.push(reason.code));
  const listening = mount ? await mounted(wh) : await wh.listen({ port: 0, hostname: '127.0.0.1' });
  redis.later(() => listening.close());
  return { wh, listening, notes, ended, errors };
}

type Kind = 'websocket' | 'sse' | 'adaptive';

function client(url: string, kind: Kind, user: string = kind): WirehopClient {
  const c = createClient({
    url,
    transports: kind === 'adaptive' ? ['websocket', 'sse'] : [kind],
    adaptive: kind === 'adaptive' ? {} : false,
    auth: { user },
  });
  redis.later(() => c.close());
  return c;
}

/** What the clients connect through: `url`, and from `both()` on, both nodes behind it. */
interface Front {
  url: string;
  both(): void;
}

/** The TCP balancer, with only node a until `both()`: every client starts on a. */
async function balanced(a: Node, b: Node): Promise<Front> {
  const lb: Balancer = await startBalancer([a.listening.port]);
  redis.later(() => lb.close());
  return { url: `${lb.url}/wirehop`, both: () => lb.setBackends([a.listening.port, b.listening.port]) };
}

/**
 * Connects `perKind` clients per transport through `front`, then publishes EVENTS publications
 * (through node b) and has each client send NOTES messages, while node a closes halfway. What each
 * client and each node saw, and which sessions were on a when it closed.
 */
async function rollingRestart(drainMs: number | undefined, front: (a: Node, b: Node) => Promise<Front> = balanced, perKind = 1, joinDelayMs = 0) {
  const prefix = `wh-drain-${process.pid}-${drainMs ?? 'default'}-${perKind}-${joinDelayMs}:`;
  const a = await startNode('a', prefix, drainMs);
  // b only closes when the test is over: what it holds then has no other node to go to.
  const b = await startNode('b', prefix, 0, false, joinDelayMs);
  const { url, both } = await front(a, b);
  const kinds = (['websocket', 'sse', 'adaptive'] as const).flatMap((kind) => Array.from({ length: perKind }, (_, n) => [kind, `${kind}-${n}`] as const));
  const seen = await Promise.all(
    kinds.map(async ([kind, user]) => {
      const c = client(url, kind, user);
      const got: number[] = [];
      const gaps: string[] = [];
      c.on('gap', (g) => gaps.push(g.code));
      const room = c.channel('room:1');
      room.on('n', (d) => got.push((d as { i: number }).i));
      await room.subscribe();
      return { kind, user, c, got, gaps, sid: c.sessionId };
    }),
  );
  const onA = new Set(seen.filter(({ sid }) => a.wh.session(sid!)).map(({ sid }) => sid));
  // Both nodes behind the front from now on: the one that closes stops accepting, and is skipped.
  both();
  // Someone on node b watching who is in the room: a move must not look like leaving and coming back.
  const watcher = client(b.listening.url, 'websocket', 'watcher');
  const presence: string[] = [];
  const room = watcher.channel('room:1');
  room.onPresence('join', (m) => void presence.push(`join:${m.id}`));
  room.onPresence('leave', (m) => void presence.push(`leave:${m.id}`));
  await room.subscribe();

  let closed: Promise<void> | undefined;
  const notes = Promise.all(
    seen.map(async ({ c }) => {
      for (let j = 1; j <= NOTES; j++) {
        void c.send('note', { j }).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }),
  );
  for (let i = 1; i <= EVENTS; i++) {
    await b.wh.publish('room:1', 'n', { i });
    if (i === EVENTS / 3) closed = a.listening.close();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await notes;
  await closed;
  return { a, b, seen, onA, presence, members: () => room.presence() };
}

/** Every client got every event and had every message handled, once and in order, in one session. */
async function expectNothingLost({ a, b, seen, onA, presence, members }: Awaited<ReturnType<typeof rollingRestart>>) {
  const all = Array.from({ length: EVENTS }, (_, k) => k + 1);
  const notes = (user: string) => [...(a.notes.get(user) ?? []), ...(b.notes.get(user) ?? [])];
  for (const { user, c, got, gaps, sid } of seen) {
    await waitFor(() => got.length >= EVENTS && notes(user).length >= NOTES, { what: `${user}: everything through` });
    expect({ user, gaps }).toEqual({ user, gaps: [] });
    expect(c.sessionId).toBe(sid);
    expect(got).toEqual(all);
    // The messages sent before a move were handled on a, the others on b: once each, in order.
    expect(notes(user)).toEqual(Array.from({ length: NOTES }, (_, k) => k + 1));
    expect(b.wh.session(sid!)).toBeDefined();
    if (onA.has(sid)) expect(c.stats.reconnects).toBeGreaterThanOrEqual(1);
  }
  // Nothing ended on a: every session moved (a session that ends there emits 'close').
  expect(a.ended).toEqual([]);
  expect(a.wh.sessionCount).toBe(0);
  // Present throughout: nobody left the room and came back.
  expect(presence.filter((e) => e.startsWith('leave:'))).toEqual([]);
  expect((await members()).map((m) => m.id).sort()).toEqual([...seen.map(({ user }) => user), 'watcher'].sort());
}

it('a node closing with a distributed broker hands every session to another node: no gap, every event and message once, in order', async () => {
  const run = await rollingRestart(undefined);
  expect(run.onA.size).toBe(3);
  await expectNothingLost(run);
}, 60_000);

it('behind a real nginx balancing both nodes, a node closes and its sessions move with no gap', async () => {
  const run = await rollingRestart(undefined, async (a, b) => {
    const nginx = await startNginx({ mode: 'websocket', upstreamPort: [a.listening.port, b.listening.port] });
    redis.later(() => nginx.close());
    return { url: nginx.url, both: () => undefined };
  }, 2);
  // Round robin put sessions on both nodes; those on a moved, those on b never noticed.
  expect(run.onA.size).toBeGreaterThan(0);
  expect(run.onA.size).toBeLessThan(run.seen.length);
  await expectNothingLost(run);
}, 60_000);

it('a closing node waits for the new node to take presence over: a user moved late still does not leave the room', async () => {
  // Node b joins each moved user 300 ms late: node a, empty long before, must not close (and
  // leave its users) until b has said it counts them.
  const run = await rollingRestart(undefined, balanced, 1, 300);
  await expectNothingLost(run);
}, 60_000);

it('with drainMs 0 the sessions end with server_closing instead, and the clients report a gap', async () => {
  const { seen, presence } = await rollingRestart(0);
  for (const { kind, gaps } of seen) expect({ kind, gaps }).toEqual({ kind, gaps: ['server_closing'] });
  // The ended sessions took their users out of the room, and the new ones brought them back.
  await waitFor(() => seen.every(({ user }) => presence.includes(`leave:${user}`)), { what: 'the leaves of the ended sessions' });
}, 60_000);

it('a draining node refuses new sessions and resumes with server_draining, and still answers the POSTs of a session it holds', async () => {
  const prefix = `wh-drain-raw-${process.pid}:`;
  // Long enough for the checks below; neither client comes back, so a drains until then. Mounted:
  // its listening is the application's, so requests still reach it while it drains.
  const a = await startNode('a', prefix, 3_000, true);
  await startNode('b', prefix, 0);
  // A session on each transport, on a.
  const ws = await rawWs(a.listening.url);
  ws.send({ type: 'hello', v: PROTOCOL_VERSION, auth: { user: 'ws' } });
  await ws.next('welcome');
  const sse = await rawHandshake(a.listening.url, [24, { v: PROTOCOL_VERSION, auth: { user: 'sse' } }]);
  const { sid, token } = sse.json[1] as { sid: string; token: string };

  const closing = a.wh.close();
  // The live WebSocket is told to resume elsewhere, with its own close code (4003): not the end.
  expect(await ws.next('error')).toMatchObject({ code: 'server_draining' });
  expect((await ws.closed).code).toBe(4003);
  expect(a.wh.sessionCount).toBe(2);

  // Nothing new starts here...
  const fresh = await rawHandshake(a.listening.url, [24, { v: PROTOCOL_VERSION, auth: { user: 'late' } }]);
  expect(fresh.status).toBe(503);
  expect(fresh.json.error.code).toBe('server_draining');
  // Not on this connection again: the next request opens a new one, which a balancer sends elsewhere.
  expect(fresh.headers.get('connection')).toBe('close');
  const upgrade = await rawWs(a.listening.url);
  expect((await upgrade.closed).code).toBe(4003);
  // ...but a session that is still here takes its messages: they move with it.
  const sent = await rawSend(a.listening.url, sid, token, encodeFrame({ type: 'send', seq: 1, event: 'note', data: { j: 1 } }) + '\n');
  expect(sent.status).toBe(200);
  expect(a.notes.get('sse')).toEqual([1]);

  await closing;
  // The drain is over and the broker closed: nothing more is answered here, not even POSTs.
  const late = await rawSend(a.listening.url, sid, token, encodeFrame({ type: 'send', seq: 2, event: 'note', data: { j: 2 } }) + '\n');
  expect([late.status, late.json.error.code]).toEqual([503, 'server_draining']);
  expect(a.notes.get('sse')).toEqual([1]);
  // Neither client came back within drainMs: both sessions then ended, as without a drain.
  expect(a.ended.sort()).toEqual(['server_closing', 'server_closing']);
}, 30_000);

it('a client that reaches a draining node retries the same transport there-after: WebSocket is not given up for it', async () => {
  const prefix = `wh-drain-retry-${process.pid}:`;
  const a = await startNode('a', prefix, 20_000, true);
  const b = await startNode('b', prefix, 0);
  const lb = await startBalancer([a.listening.port]);
  redis.later(() => lb.close());
  const streams: string[] = [];
  a.listening.server.on('request', (req: { url?: string }) => req.url?.includes('/sse') && streams.push(req.url));
  const c = client(`${lb.url}/wirehop`, 'adaptive');
  const refusals: string[] = [];
  const seen: string[] = []; // what the client went through, for a failure's message
  c.on('error', (e) => void (e.code === 'server_draining' && refusals.push(e.code)));
  c.on('error', (e) => void seen.push(`error ${e.code}: ${e.message}`));
  c.on('gap', (g) => void seen.push(`gap ${g.code}`));
  c.on('state', (s) => void seen.push(`state ${s.to} ${s.reason}`));
  await c.connect();
  const sid = c.sessionId;
  expect(c.transport).toBe('websocket');

  // Mounted on the application's own server, which wirehop does not stop from listening: the
  // balancer keeps sending the client back to it until it is taken out.
  const closing = a.wh.close();
  await waitFor(() => refusals.length >= 3, { what: 'the client refused by the draining node, again and again' });
  lb.setBackends([b.listening.port]);
  await waitFor(() => b.wh.session(sid!) && c.state === 'connected', { what: 'the session on b' }).catch((error: Error) => {
    // This has failed about once in fifteen full runs, cause unproven: say what the client and a saw.
    throw new Error(`${error.message}; client: ${seen.slice(-8).join(' | ')}; ended on a: ${JSON.stringify(a.ended)}; errors on a: ${JSON.stringify(a.errors)}`);
  });
  await closing;
  expect(c.sessionId).toBe(sid);
  expect(c.transport).toBe('websocket');
  // Every retry was a WebSocket: none fell back to an SSE stream because of the refusals.
  expect(streams).toEqual([]);
  expect(a.ended).toEqual([]);
}, 60_000);

it('stops listening, and lets its sessions go a slice at a time, not all at once: their resumes do not all land on the other nodes together', async () => {
  const prefix = `wh-drain-spread-${process.pid}:`;
  const a = await startNode('a', prefix, 2_000);
  await startNode('b', prefix, 0);
  const sockets = await Promise.all(
    Array.from({ length: 100 }, async (_, k) => {
      const ws = await rawWs(a.listening.url);
      ws.send({ type: 'hello', v: PROTOCOL_VERSION, auth: { user: `u${k}` } });
      return { ws, sid: (await ws.next('welcome')).sid };
    }),
  );
  const attached = () => sockets.filter(({ sid }) => a.wh.session(sid)?.transport === 'websocket').length;
  expect(attached()).toBe(100);
  const closing = a.listening.close();
  // close() lets the first slice go before it returns: 1,000 a second over 100 ms, 25 per 25 ms tick.
  expect(attached()).toBe(75);
  // The server listen() made takes no new connection: a balancer sends the resumes elsewhere.
  await expect(fetch(`${a.listening.url}/ping`)).rejects.toThrow();
  for (const { ws } of sockets) expect(await ws.next('error')).toMatchObject({ code: 'server_draining' });
  expect(attached()).toBe(0);
  expect(a.wh.sessionCount).toBe(100); // none came back to be taken over: they wait here for drainMs
  await closing;
  expect(a.ended.length).toBe(100);
}, 30_000);

it('over HTTP/2, a draining node refuses on the one connection a client keeps, and ends that connection (GOAWAY)', async () => {
  const certificate = await selfSignedCertificate();
  redis.later(() => certificate.remove());
  const broker = createRedisBroker({ url: redis.url, prefix: `wh-drain-h2-${process.pid}:`, nodeId: 'h2' });
  const server = await startH2Server(certificate, undefined, { broker, drainMs: 2_000 });
  redis.later(() => server.close());
  const client = http2.connect(server.origin, { ca: certificate.cert });
  redis.later(() => client.close());
  const request = (method: string, path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = client.request({ ':method': method, ':path': `/wirehop${path}` });
      let body = '';
      let status = 0;
      stream.on('response', (headers) => void (status = Number(headers[':status'])));
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
      stream.end(method === 'POST' ? JSON.stringify([24, { v: PROTOCOL_VERSION }]) : undefined);
    });
  expect((await request('POST', '/session')).status).toBe(200);
  const goaway = nextEvent<[number]>(
    (listener) => {
      client.once('goaway', listener);
      return () => client.off('goaway', listener);
    },
    { timeoutMs: 5_000, what: 'GOAWAY' },
  );
  const closing = server.wh.close();
  const refused = await request('POST', '/session');
  expect(refused.status).toBe(503);
  expect(JSON.parse(refused.body).error.code).toBe('server_draining');
  await goaway;
  await closing;
}, 30_000);

it('a node alone on its broker does not wait drainMs: nobody could take its sessions, so they end at once', async () => {
  // drainMs far beyond the test's timeout: only seeing that it is alone lets close() return.
  const a = await startNode('alone', `wh-drain-alone-${process.pid}:`, 3_600_000);
  const ws = await rawWs(a.listening.url);
  ws.send({ type: 'hello', v: PROTOCOL_VERSION, auth: { user: 'lonely' } });
  await ws.next('welcome');
  await a.listening.close();
  expect(a.ended).toEqual(['server_closing']);
  expect(a.wh.sessionCount).toBe(0);
}, 20_000);

it('a node cut off from its broker does not wait drainMs either: no handoff could reach it', async () => {
  // A Redis of its own, which dies before the node closes.
  const own = await startRedis();
  redis.later(() => own.stop());
  const errors: string[] = [];
  const wh = createWirehop({
    broker: createRedisBroker({ url: own.url, prefix: `wh-drain-cut-${process.pid}:`, nodeId: 'cut', commandTimeoutMs: 500 }),
    drainMs: 3_600_000,
    onError: (error, where) => void errors.push(where.phase),
  });
  const listening = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  redis.later(() => listening.close());
  const ws = await rawWs(listening.url);
  ws.send({ type: 'hello', v: PROTOCOL_VERSION });
  await ws.next('welcome');
  await own.kill();
  await listening.close();
  expect(wh.sessionCount).toBe(0);
  expect(errors).toContain('broker'); // the count of the other nodes failed, and said so
}, 20_000);
