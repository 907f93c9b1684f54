/**
 * The moderate fan-out alone, taken apart: N clients in this process (pinned to core 1) subscribed
 * to one server in a child process (core 0), which broadcasts at 50 a second. Prints the clients'
 * user CPU per delivery and, per broadcast, when its first and its last delivery arrived (medians
 * and p99 over the broadcasts). `lean` is a reference, not a product: a client written by hand for
 * the wirehop protocol with nothing but what a delivery needs (JSON decode with the codec's
 * checks, the sequence check, a listener, time-based acks), on a wirehop server. Between raw `ws`
 * and it lies what the protocol costs; between it and `wirehop-ws`, what the client's layers cost.
 * Run the kinds interleaved, several times: single runs swing by a microsecond (bench/README.md).
 * Usage: npx tsx bench/fanout-harness.ts ws|lean|wirehop-ws|wirehop-sse [clients=500] [broadcasts=250]
 */
import { FrameCode, decodeServerFrame } from '@wirehop/protocol';
import WebSocket from 'ws';
import { now } from './lib/clock.js';
import { exitWithParent, forkPinnedServer } from './lib/harness.js';
import { encodePayload, payloadSeq, payloadTime } from './lib/payload.js';
import { percentile } from './lib/stats.js';
import { closeAll, connectMany } from './scenarios/common.js';
import type { ClientEnv } from './scenarios/types.js';
import { stackById } from './stacks/index.js';
import type { BenchClient } from './stacks/types.js';

type Kind = 'ws' | 'lean' | 'wirehop-ws' | 'wirehop-sse';
const RATE = 50;
const ACK_DELAY_MS = 250; // the wirehop client's default (packages/client/src/acks.ts)

if (process.argv[2] === 'serve') await serve(process.argv[3] === 'ws');
else await measure(process.argv[2] as Kind, Number(process.argv[3] ?? 500), Number(process.argv[4] ?? 250));

/**
 * The server half: the bench's raw `ws` or wirehop stack (wirehop publishes to channel `bench` as
 * event `b`); broadcasts `n` payloads (lib/payload.ts) at RATE a second when told.
 */
async function serve(raw: boolean): Promise<void> {
  exitWithParent();
  const server = stackById(raw ? 'ws' : 'wirehop').server();
  process.send!({ url: await server.start(0) });
  process.on('message', ({ n }: { n: number }) => {
    let i = 0;
    const start = performance.now();
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) * RATE) / 1000);
      for (; i < due && i < n; i++) server.broadcast(encodePayload(i, now()));
      if (i >= n) {
        clearInterval(timer);
        process.send!({ done: i });
      }
    }, 1);
  });
}

/** The hand-written reference client as a stack's client half (stacks/types.ts), receiving only. */
function leanClient(): BenchClient {
  return {
    errors: 0,
    connect: async (url) => {
      let on: (data: string) => void = () => undefined;
      const ws = await leanConnection(url, (data) => on(data));
      return { send: () => undefined, onMessage: (l) => void (on = l), close: () => ws.terminate() };
    },
    dispose: async () => undefined,
  };
}

/** The hand-written reference client: HELLO, SUBSCRIBE, then EVENT frames in order to `on`, acked within ACK_DELAY_MS. */
function leanConnection(url: string, on: (data: string) => void): Promise<WebSocket> {
  return new Promise((ready, fail) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', { perMessageDeflate: false });
    let last = 0;
    let acked = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ack = () => {
      timer = undefined;
      if (last > acked) ws.send(`[${FrameCode.ack},${(acked = last)}]`);
    };
    ws.onopen = () => ws.send(`[${FrameCode.hello},{"v":1}]`);
    ws.onerror = fail;
    ws.onmessage = ({ data }) => {
      const decoded = decodeServerFrame(data as string);
      if (!decoded.ok) return fail(new Error(decoded.message));
      const f = decoded.frame;
      if (f.type === 'welcome') return ws.send(`[${FrameCode.subscribe},1,"bench"]`);
      if (f.type === 'ping') return ws.send(`[${FrameCode.pong},${f.n}]`);
      if (!('seq' in f) || f.seq <= last) return;
      if (f.seq !== last + 1) return fail(new Error(`gap at ${f.seq}`));
      last = f.seq;
      if (f.type === 'reply') ready(ws);
      else if (f.type === 'event' && f.event === 'b') on(f.data as string);
      timer ??= setTimeout(ack, ACK_DELAY_MS * (1 + Math.random() / 2));
    };
  });
}

async function measure(kind: Kind, clients: number, broadcasts: number): Promise<void> {
  if (!['ws', 'lean', 'wirehop-ws', 'wirehop-sse'].includes(kind)) throw new Error('kind: ws, lean, wirehop-ws or wirehop-sse');
  const { server, url } = await forkPinnedServer(new URL(import.meta.url), ['serve', kind === 'ws' ? 'ws' : 'wirehop']);
  let got = 0;
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const on = (d: string) => {
    got++;
    const i = payloadSeq(d);
    const latency = now() - payloadTime(d);
    if (!first.has(i)) first.set(i, latency);
    last.set(i, latency);
  };
  // The bench's own client halves, as the fan-out scenario opens them (`lean` is this file's).
  const env: ClientEnv = { client: kind === 'lean' ? leanClient() : stackById(kind).client(), connections: [] };
  const opened = await connectMany(env, { url, count: clients, concurrency: 50, timeoutMs: 60_000 });
  if (opened.connected !== clients) throw new Error(`${opened.connected} of ${clients} connected (${opened.firstError})`);
  for (const c of env.connections) c.onMessage(on);
  const phase = async (n: number) => {
    got = 0;
    first.clear();
    last.clear();
    const cpu = process.cpuUsage();
    server.send({ n });
    await new Promise((ok) => server.once('message', ok));
    const until = Date.now() + 2000;
    while (got < n * clients && Date.now() < until) await new Promise((ok) => setTimeout(ok, 5));
    const user = process.cpuUsage(cpu).user;
    const q = (values: Iterable<number>, p: number) => Number(percentile([...values], p).toFixed(2));
    return { delivered: got, expected: n * clients, userUsPerDelivery: Number((user / got).toFixed(2)), firstP50Ms: q(first.values(), 50), lastP50Ms: q(last.values(), 50), lastP99Ms: q(last.values(), 99) };
  };
  await phase(25); // warm-up
  console.log(kind, JSON.stringify(await phase(broadcasts)));
  closeAll(env);
  server.kill();
  process.exit(0);
}
