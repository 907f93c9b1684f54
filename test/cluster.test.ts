/**
 * Three wirehop processes on one Redis behind a round-robin TCP balancer, no sticky sessions
 * (issue #5). Sessions move to whichever node a reconnect reaches; POSTs land on any node; a node
 * is killed and restarted mid-run, and every subscriber still gets every publication of its channel
 * exactly once, in order — from history where its session died with the node.
 */
import { fileURLToPath } from 'node:url';
import { createClient, type WirehopClient } from '@wirehop/client';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, PROTOCOL_VERSION, encodeFrame } from '@wirehop/protocol';
import { startBalancer, type Balancer } from './helpers/balancer.js';
import { startNode, type NodeProcess } from './helpers/node-process.js';
import { rawSend, rawWs } from './helpers/raw.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { waitFor } from './helpers/wait.js';

const script = fileURLToPath(new URL('./helpers/fixtures/wirehop-node.ts', import.meta.url));
const CHANNELS = 10;
const CLIENTS = 100;
const PER_CHANNEL = 2000;
const BATCH = 100;

let redis: RedisServer;
let nodes: NodeProcess[];
let lb: Balancer;
const clients: WirehopClient[] = [];
// One connection per HTTP request: consecutive POSTs and streams of one client spread over the nodes.
const spread = new Agent({ maxRequestsPerClient: 1, bodyTimeout: 0, headersTimeout: 0 });
const fetchSpread = ((url: string, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: spread })) as unknown as typeof fetch;

beforeAll(async () => {
  redis = await startRedis();
  nodes = await Promise.all([1, 2, 3].map((i) => startNode({ script, env: { REDIS_URL: redis.url, NODE_ID: `n${i}` } })));
  lb = await startBalancer(nodes.map((n) => n.port));
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await lb?.close();
  await Promise.all((nodes ?? []).map((n) => n.stop()));
  await redis?.stop();
  await spread.close();
});

function client(transport: 'websocket' | 'sse', user: string, url = `${lb.url}/wirehop`, both = false): WirehopClient {
  const c = createClient({
    url,
    transports: both ? [transport, transport === 'sse' ? 'websocket' : 'sse'] : [transport],
    adaptive: false,
    auth: { user },
    fetch: fetchSpread,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  clients.push(c);
  return c;
}

async function control<T>(node: NodeProcess, path: string, body?: unknown): Promise<T> {
  const res = await undiciFetch(`${node.url}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return (await res.json()) as T;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

const whereIs = async (sid: string) => {
  for (const n of nodes) if ((await control<{ here: boolean }>(n, `/control/session/${sid}`)).here) return n;
  return undefined;
};

describe('three nodes on Redis behind a round-robin balancer', () => {
  it('moves a session to whichever node a reconnect reaches, with no gap and nothing lost', async () => {
    const c = client('websocket', 'mover', undefined, true);
    const got: number[] = [];
    const sessionGaps: unknown[] = [];
    c.on('gap', (g) => sessionGaps.push(g));
    const room = c.channel('room:move');
    room.on('n', (d) => got.push((d as { i: number }).i));
    await room.subscribe();
    const sid = c.sessionId!;
    const homes = new Set<number>();
    let n = 0;
    for (const to of ['sse', 'websocket', 'sse', 'websocket'] as const) {
      homes.add((await whereIs(sid))!.port);
      await c.switchTransport(to);
      await room.publish('n', { i: ++n }); // a client publish, answered wherever the session is
      await waitFor(() => got.length === n, { what: 'own publication back' });
    }
    homes.add((await whereIs(sid))!.port);
    expect(c.sessionId).toBe(sid);
    expect(sessionGaps).toEqual([]);
    expect(got).toEqual([1, 2, 3, 4]);
    expect(homes.size).toBeGreaterThan(1); // it really moved between processes
    expect(await c.request('whoami')).toMatch(/^n[123]$/);
  }, 60_000);

  it('signals a gap, and only there, when a dead node\'s session missed more than history holds', async () => {
    // One client on two channels, connected straight to node 3 so that it cannot come back before
    // the node does; its session dies with the node, and meanwhile `tight:g` (history 50) and
    // `room:g` (history 10,000) each get 200 publications from node 1.
    const home = nodes[2]!;
    const c = client('sse', 'gapped', `${home.url}/wirehop`);
    const watch = (name: string) => {
      const ch = c.channel(name);
      const offsets: number[] = [];
      const gaps: unknown[] = [];
      ch.on('n', () => offsets.push(ch.position!.offset));
      ch.onGap((g) => gaps.push(g));
      return { ch, offsets, gaps };
    };
    const tight = watch('tight:g');
    const roomy = watch('room:g');
    await Promise.all([tight.ch.subscribe(), roomy.ch.subscribe()]);
    const publish = (node: NodeProcess, channel: string, count: number) => control(node, '/control/publish', { channel, count, tag: channel });
    await publish(nodes[0]!, 'tight:g', 10);
    await publish(nodes[0]!, 'room:g', 10);
    await waitFor(() => tight.offsets.length === 10 && roomy.offsets.length === 10);

    const lost: string[] = [];
    c.on('gap', (g) => lost.push(g.code));
    await home.kill('SIGKILL');
    await publish(nodes[0]!, 'tight:g', 200);
    await publish(nodes[0]!, 'room:g', 200);
    await home.restart();
    await waitFor(() => tight.offsets.at(-1) === 210 && roomy.offsets.at(-1) === 210, { timeoutMs: 30_000, what: 'both channels caught up' });

    expect(lost).toEqual(['session_unknown']);
    // Offsets 11..160 fell out of tight:g's history: one GAP says so, then 161..210 come from history.
    expect(tight.gaps).toEqual([expect.objectContaining({ code: 'history_unavailable', position: expect.objectContaining({ offset: 160 }) })]);
    expect(tight.offsets).toEqual([...range(1, 10), ...range(161, 210)]);
    // The same session's other channel had room in its history: nothing lost, no gap.
    expect(roomy.gaps).toEqual([]);
    expect(roomy.offsets).toEqual(range(1, 210));
  }, 60_000);

  it('a late resume on another node learns how the session ended and how far it got', async () => {
    // A raw client on node 1: a request (client seq 1) is processed, then the socket is dropped and
    // the application ends the session while nobody is attached.
    const first = await rawWs(`${nodes[0]!.url}/wirehop`);
    first.send({ type: 'hello', v: PROTOCOL_VERSION, auth: { user: 'late' } });
    const { sid, token } = await first.next('welcome');
    first.send({ type: 'request', seq: 1, method: 'whoami', data: null });
    expect(await first.next('reply')).toMatchObject({ re: 1, data: 'n1' });
    first.ws.terminate();
    await waitFor(async () => (await control<{ closed: boolean }>(nodes[0]!, `/control/close/${sid}`, {})).closed, { what: 'the session closed on node 1' });

    // Node 2 never held it, yet answers as node 1 would: session_closed, and client frame 1 was processed.
    const late = await rawWs(`${nodes[1]!.url}/wirehop`);
    late.send({ type: 'hello', v: PROTOCOL_VERSION, sid, token: token!, ack: 0 });
    expect(await late.next('bye')).toMatchObject({ code: 'session_closed', ack: 1 });
    expect((await late.closed).code).toBe(ErrorCodes.session_closed.close);
    // So does POST /send on node 3; a wrong token learns nothing more than 'unauthorized', as on node 1.
    const again = encodeFrame({ type: 'request', seq: 2, method: 'whoami', data: null }) + '\n';
    expect(await rawSend(`${nodes[2]!.url}/wirehop`, sid, token!, again)).toMatchObject({ status: 410, json: { error: { code: 'session_closed', ack: 1 } } });
    expect(await rawSend(`${nodes[2]!.url}/wirehop`, sid, 'not-the-token', again)).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
  }, 60_000);

  it('delivers 20,000 publications from random nodes to 100 clients exactly once, in order, while a node is killed and restarted', async () => {
    const received: number[][] = [];
    const channelGaps: unknown[] = [];
    const lostSessions: string[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const c = client(i % 2 === 0 ? 'websocket' : 'sse', `u${i}`);
      c.on('gap', (g) => lostSessions.push(g.code));
      const ch = c.channel(`room:${i % CHANNELS}`);
      const offsets: number[] = [];
      received.push(offsets);
      ch.on('n', () => offsets.push(ch.position!.offset));
      ch.onGap((g) => channelGaps.push(g));
    }
    await Promise.all(clients.slice(-CLIENTS).map((c, i) => c.channel(`room:${i % CHANNELS}`).subscribe()));

    // A user connected straight to node 2 and a watcher on node 3: the crash must make the user leave.
    const victim = client('websocket', 'victim', `${nodes[1]!.url}/wirehop`);
    await victim.channel('room:0').subscribe();
    const watcher = client('websocket', 'watcher', `${nodes[2]!.url}/wirehop`);
    const leaves: string[] = [];
    watcher.channel('room:0').onPresence('leave', (m) => leaves.push(m.id));
    await watcher.channel('room:0').subscribe();
    await waitFor(async () => (await watcher.channel('room:0').presence()).some((m) => m.id === 'victim'));

    const down = new Set<number>();
    let rounds = 0;
    const batchesPerChannel = PER_CHANNEL / BATCH;
    const publishChannel = async (channel: number) => {
      for (let b = 0; b < batchesPerChannel; b++) {
        const live = nodes.filter((_, i) => !down.has(i));
        const node = live[Math.floor(Math.random() * live.length)]!;
        try {
          await control(node, '/control/publish', { channel: `room:${channel}`, count: BATCH, tag: `${channel}.${b}` });
        } catch {
          // The node died under this request: whatever it stored is delivered anyway, checked below.
        }
        rounds++;
      }
    };
    const crash = (async () => {
      await waitFor(() => rounds >= CHANNELS * 5, { timeoutMs: 60_000 });
      down.add(1);
      const killedAt = Date.now();
      await nodes[1]!.kill('SIGKILL');
      await waitFor(() => leaves.includes('victim'), { timeoutMs: 15_000, what: "the dead node's user to leave presence" });
      const leftAfterMs = Date.now() - killedAt;
      await waitFor(() => rounds >= CHANNELS * 10, { timeoutMs: 60_000 });
      await nodes[1]!.restart();
      down.delete(1);
      return leftAfterMs;
    })();
    await Promise.all(Array.from({ length: CHANNELS }, (_, ch) => publishChannel(ch)));
    const leftAfterMs = await crash;

    // Batches cut short by the crash are topped up from a random node, so each channel gets exactly PER_CHANNEL.
    const position = (ch: number) => control<{ offset: number }>(nodes[0]!, `/control/position/room:${ch}`);
    for (let ch = 0; ch < CHANNELS; ch++) {
      const missing = PER_CHANNEL - (await position(ch)).offset;
      if (missing > 0) await control(nodes[Math.floor(Math.random() * nodes.length)]!, '/control/publish', { channel: `room:${ch}`, count: missing, tag: `${ch}.top` });
    }
    const finals = await Promise.all(Array.from({ length: CHANNELS }, (_, ch) => position(ch)));
    for (const f of finals) expect(f.offset).toBe(PER_CHANNEL);
    await waitFor(() => received.every((r, i) => r.length >= finals[i % CHANNELS]!.offset), { timeoutMs: 60_000, what: 'every publication at every client' });
    for (let i = 0; i < CLIENTS; i++) {
      const final = finals[i % CHANNELS]!.offset;
      expect(received[i]).toEqual(Array.from({ length: final }, (_, k) => k + 1)); // exactly once, in order
    }
    expect(channelGaps).toEqual([]);
    // Sessions died with the node, and their publications came back from history, not from them.
    expect(lostSessions.length).toBeGreaterThan(0);
    expect(new Set(lostSessions)).toEqual(new Set(['session_unknown']));
    expect(Object.keys(lb.stats().connections).length).toBe(3);
    console.log(`[cluster] ${finals.reduce((a, f) => a + f.offset, 0)} publications, ${CLIENTS} clients, ${lostSessions.length} sessions lost with the node and recovered from history; the dead node's user left presence after ${leftAfterMs} ms`);
  }, 180_000);
});
