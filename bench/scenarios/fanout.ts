/**
 * (3) Fan-out: N clients connected, the server broadcasts at an offered rate (deliveries per second
 * = broadcasts per second × N), first moderate, then saturating. The client process counts every
 * delivery per connection (distinct sequence numbers), so what was sent and never arrived within
 * the drain time is reported as lost, and duplicates and reordering are counted, not assumed away.
 * Latency is from the server's broadcast call to the client's receipt, on the shared monotonic clock.
 */
import { now } from '../lib/clock.js';
import { encodePayload, payloadSeq, payloadTime } from '../lib/payload.js';
import { latencySummary } from '../lib/stats.js';
import { withCpu, type ConnectManyResult } from './common.js';
import type { ClientEnv, ClientTask, Metric, Scenario, ServerEnv, ServerTask, TrialContext } from './types.js';

/** Most broadcasts per event-loop turn, so the server still reads its sockets (acks) between batches. */
const MAX_BATCH = 64;

interface BroadcastArgs {
  count: number;
  ratePerSec: number;
  maxMs: number;
}

interface BroadcastResult {
  sent: number;
  startAt: number;
  endAt: number;
}

/** Server task: `count` broadcasts paced at `ratePerSec`, as fast as possible when behind. */
function broadcast(env: ServerEnv, a: BroadcastArgs): Promise<BroadcastResult> {
  const start = now();
  const interval = 1000 / a.ratePerSec;
  let sent = 0;
  return new Promise((resolve) => {
    const step = () => {
      const t = now();
      if (sent >= a.count || t - start > a.maxMs) return resolve({ sent, startAt: start, endAt: t });
      const due = Math.min(a.count, Math.floor((t - start) / interval) + 1);
      for (let n = Math.min(due - sent, MAX_BATCH); n > 0; n--) env.server.broadcast(encodePayload(sent++, now()));
      if (sent >= a.count) return resolve({ sent, startAt: start, endAt: now() });
      if (sent < due) setImmediate(step);
      else setTimeout(step, Math.max(0, start + sent * interval - now()));
    };
    step();
  });
}

/** What the client process counts during one phase. */
interface Phase {
  count: number;
  delivered: number;
  duplicated: number;
  reordered: number;
  samples: Float64Array;
  lastAt: number;
  target: number;
  done?: () => void;
}

let phase: Phase | undefined;

/** Client task: resets the counters and puts a counting listener on every connection. */
async function fanoutArm(env: ClientEnv, a: { count: number }): Promise<number> {
  const n = env.connections.length;
  const p: Phase = { count: a.count, delivered: 0, duplicated: 0, reordered: 0, samples: new Float64Array(n * a.count), lastAt: 0, target: n * a.count };
  phase = p;
  env.connections.forEach((conn) => {
    const seen = new Uint8Array(a.count);
    let highest = -1;
    conn.onMessage((data) => {
      const t = now();
      const seq = payloadSeq(data);
      if (seq < 0 || seq >= a.count || seen[seq]) {
        p.duplicated++;
        return;
      }
      seen[seq] = 1;
      if (seq < highest) p.reordered++;
      else highest = seq;
      p.samples[p.delivered++] = t - payloadTime(data);
      p.lastAt = t;
      if (p.delivered >= p.target) p.done?.();
    });
  });
  return n;
}

/** What fanoutCollect answers (also read by bench/cluster/trial.ts). */
export interface CollectResult {
  delivered: number;
  duplicated: number;
  reordered: number;
  lastAt: number;
  p50: number;
  p99: number;
}

/** Client task: waits until every connection got `sent` messages, or `drainMs`; then summarises. */
async function fanoutCollect(env: ClientEnv, a: { sent: number; drainMs: number }): Promise<CollectResult> {
  const p = phase;
  if (!p) throw new Error('fanoutCollect before fanoutArm');
  p.target = env.connections.length * a.sent;
  if (p.delivered < p.target) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, a.drainMs);
      p.done = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  for (const conn of env.connections) conn.onMessage(() => undefined);
  phase = undefined;
  const { p50, p99 } = latencySummary(p.samples, p.delivered);
  return { delivered: p.delivered, duplicated: p.duplicated, reordered: p.reordered, lastAt: p.lastAt, p50, p99 };
}

export const fanoutClientTasks = { fanoutArm: fanoutArm as ClientTask<{ count: number }>, fanoutCollect: fanoutCollect as ClientTask<{ sent: number; drainMs: number }> };
export const fanoutServerTasks = { broadcast: broadcast as ServerTask<BroadcastArgs> };

/** One phase at `offered` deliveries per second for `ms`; returns its metrics under `prefix`. */
async function runPhase(ctx: TrialContext, clients: number, offered: number, ms: number, prefix: string) {
  const { server, client, params } = ctx;
  const ratePerSec = offered / clients;
  const count = Math.max(1, Math.round((ratePerSec * ms) / 1000));
  const budget = params.trialTimeoutMs;
  await client.call('fanoutArm', { count }, 10_000);
  const [[b, c], cpu] = await withCpu(server, client, async () => {
    const sent = await server.call<BroadcastResult>('broadcast', { count, ratePerSec, maxMs: ms * 4 + 2_000 } satisfies BroadcastArgs, budget);
    const got = await client.call<CollectResult>('fanoutCollect', { sent: sent.sent, drainMs: params.fanout.drainMs }, budget);
    return [sent, got] as const;
  });
  const offeredTotal = b.sent * clients;
  const window = Math.max(c.lastAt, b.endAt) - b.startAt;
  return {
    metrics: {
      [`${prefix}Rate`]: (c.delivered / window) * 1000,
      [`${prefix}P50`]: c.p50 * 1000,
      [`${prefix}P99`]: c.p99 * 1000,
      [`${prefix}Lost`]: offeredTotal - c.delivered,
      [`${prefix}Disorder`]: c.duplicated + c.reordered,
      [`${prefix}ServerCpu`]: c.delivered ? (cpu.serverCpuMs / c.delivered) * 1000 : Number.NaN,
      [`${prefix}ClientCpu`]: c.delivered ? (cpu.clientCpuMs / c.delivered) * 1000 : Number.NaN,
    },
    details: { [prefix]: { clients, broadcasts: b.sent, planned: count, offeredPerSec: offered, sendMs: b.endAt - b.startAt, ...cpu, ...c } },
  };
}

const phaseMetrics = (prefix: string, name: string): Metric[] => [
  { key: `${prefix}Rate`, label: `fan-out ${name}: delivered`, unit: 'msg/s', better: 'higher', digits: 0 },
  { key: `${prefix}P50`, label: `fan-out ${name}: p50`, unit: 'µs', better: 'lower', digits: 0 },
  { key: `${prefix}P99`, label: `fan-out ${name}: p99`, unit: 'µs', better: 'lower', digits: 0 },
  { key: `${prefix}Lost`, label: `fan-out ${name}: lost`, unit: 'msgs', better: 'lower', digits: 0 },
  { key: `${prefix}Disorder`, label: `fan-out ${name}: duplicated+reordered`, unit: 'msgs', better: 'lower', digits: 0 },
  { key: `${prefix}ServerCpu`, label: `fan-out ${name}: server CPU per delivery`, unit: 'µs', better: 'lower', digits: 2 },
  { key: `${prefix}ClientCpu`, label: `fan-out ${name}: client CPU per delivery`, unit: 'µs', better: 'lower', digits: 2 },
];

export const fanoutScenario: Scenario = {
  id: 'fanout',
  title: 'fan-out to many clients, moderate then saturating rate',
  metrics: [...phaseMetrics('sat', 'saturating'), ...phaseMetrics('mod', 'moderate')],
  async run(ctx) {
    const { server, client, url, params } = ctx;
    const f = params.fanout;
    const c = await client.call<ConnectManyResult>('connectMany', { url, count: f.clients, concurrency: params.connectConcurrency, timeoutMs: 30_000 }, 40_000);
    if (c.connected !== f.clients) throw new Error(`fan-out: only ${c.connected} of ${f.clients} clients connected (${c.firstError})`);
    const seen = await server.call<number>('connections', null, 5_000);
    if (seen < f.clients) throw new Error(`fan-out: the server sees ${seen} of ${f.clients} clients`);
    // Warm-up at the moderate rate (JIT, buffers, Socket.IO upgrades), not reported.
    const warm = await runPhase(ctx, f.clients, f.moderateOffered, f.warmupMs, 'warm');
    const mod = await runPhase(ctx, f.clients, f.moderateOffered, f.moderateMs, 'mod');
    const sat = await runPhase(ctx, f.clients, f.saturatedOffered, f.saturatedMs, 'sat');
    return { metrics: { ...sat.metrics, ...mod.metrics }, details: { connectMs: c.elapsedMs, ...warm.details, ...sat.details, ...mod.details } };
  },
};
