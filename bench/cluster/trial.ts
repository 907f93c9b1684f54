/**
 * One trial of the cluster benchmark: one topology, fresh processes, three fan-out phases (warm-up,
 * moderate, saturating). The client side is the main benchmark's client process and fan-out tasks
 * (bench/client-process.ts with the `wirehop-ws` stack: fanoutArm / fanoutCollect count every
 * delivery per connection by sequence number and take its latency), so a delivery is counted the
 * same way as in `npm run bench`.
 *
 * Publications are issued from node 1 only. See bench/README.md ("Cluster fan-out") for why.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { now } from '../lib/clock.js';
import { Child } from '../lib/rpc.js';
import type { ConnectManyResult, CpuSample } from '../scenarios/common.js';
import type { CollectResult } from '../scenarios/fanout.js';
import type { ClusterParams, Topology } from './config.js';
import type { BroadcastResult } from './node.js';
import { machineBusyMs, startCluster, type Cluster } from './topology.js';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
/** The client stack: wirehop's client on WebSocket only, `adaptive: false`, as the main bench's `wirehop-ws`. */
export const CLIENT_STACK = 'wirehop-ws';

export interface ClusterTrial {
  rep: number;
  topology: Topology['id'];
  ms: number;
  metrics?: Record<string, number>;
  details?: Record<string, unknown>;
  error?: string;
}

interface CpuSnapshot {
  at: number;
  nodes: number[];
  redis: number;
  balancer: number;
  client: CpuSample;
  machine: number;
}

async function snapshot(cluster: Cluster, client: Child): Promise<CpuSnapshot> {
  const clientCpu = await client.call<CpuSample>('cpu', null, 5_000);
  const u = process.cpuUsage();
  return { at: now(), ...cluster.cpu(), balancer: (u.user + u.system) / 1000, client: clientCpu, machine: machineBusyMs() };
}

const pct = (ms: number, wallMs: number) => (wallMs > 0 ? (ms / wallMs) * 100 : Number.NaN);

/** One phase at `offered` deliveries per second for `ms`: its metrics under `prefix`, and details. */
async function runPhase(cluster: Cluster, client: Child, p: ClusterParams, offered: number, ms: number, prefix: string) {
  const ratePerSec = offered / p.clients;
  const count = Math.max(1, Math.round((ratePerSec * ms) / 1000));
  const failedBefore = (await cluster.state()).reduce((n, s) => n + s.publishFailed, 0);
  await client.call('fanoutArm', { count }, 10_000);
  const s0 = await snapshot(cluster, client);
  const b = await cluster.control<BroadcastResult>(0, '/bench/broadcast', { count, ratePerSec, maxMs: ms * 4 + 2_000 }, p.trialTimeoutMs);
  const c = await client.call<CollectResult>('fanoutCollect', { sent: b.sent, drainMs: p.drainMs }, p.trialTimeoutMs);
  const s1 = await snapshot(cluster, client);
  const publishFailed = (await cluster.state()).reduce((n, s) => n + s.publishFailed, 0) - failedBefore;

  const wall = s1.at - s0.at;
  const nodesCpuMs = s1.nodes.map((v, i) => v - s0.nodes[i]!);
  const nodesTotal = nodesCpuMs.reduce((a, b) => a + b, 0);
  const redisCpuMs = s1.redis - s0.redis;
  const serverSide = nodesTotal + (Number.isFinite(redisCpuMs) ? redisCpuMs : 0);
  const window = Math.max(c.lastAt, b.endAt) - b.startAt;
  const perDelivery = (cpuMs: number) => (c.delivered ? (cpuMs / c.delivered) * 1000 : Number.NaN);
  return {
    metrics: {
      [`${prefix}Rate`]: (c.delivered / window) * 1000,
      [`${prefix}P50`]: c.p50 * 1000,
      [`${prefix}P99`]: c.p99 * 1000,
      [`${prefix}Lost`]: b.sent * p.clients - c.delivered,
      [`${prefix}Dup`]: c.duplicated,
      [`${prefix}Reord`]: c.reordered,
      [`${prefix}Cpu`]: perDelivery(serverSide),
      [`${prefix}RedisCpu`]: Number.isFinite(redisCpuMs) ? perDelivery(redisCpuMs) : Number.NaN,
    },
    details: {
      [prefix]: {
        offeredPerSec: offered,
        publications: b.sent,
        planned: count,
        publishFailed,
        publishMs: b.endAt - b.startAt,
        ...c,
        cpuPct: {
          nodes: nodesCpuMs.map((v) => pct(v, wall)),
          nodesTotal: pct(nodesTotal, wall),
          redis: pct(redisCpuMs, wall),
          balancer: pct(s1.balancer - s0.balancer, wall),
          client: pct(s1.client.cpuMs - s0.client.cpuMs, s1.client.at - s0.client.at),
          // The machine's busy time minus ours: other people's work that competed for the cores.
          others: pct(s1.machine - s0.machine - serverSide - (s1.balancer - s0.balancer) - (s1.client.cpuMs - s0.client.cpuMs), wall),
        },
      },
    },
  };
}

/**
 * Opens `p.clients` connections: through the balancer (round robin, so client i lands on node
 * i mod N), or with `direct`, straight to the nodes in equal shares (the same spread, without the
 * balancer's hop and its CPU on the server core).
 */
async function connectClients(cluster: Cluster, client: Child, p: ClusterParams, direct: boolean): Promise<{ connected: number; elapsedMs: number }> {
  const n = cluster.nodes.length;
  const targets = direct
    ? cluster.nodes.map((node, i) => ({ url: `${node.url}/wirehop`, count: Math.floor(p.clients / n) + (i < p.clients % n ? 1 : 0) }))
    : [{ url: cluster.url, count: p.clients }];
  let connected = 0;
  let elapsedMs = 0;
  for (const t of targets) {
    const r = await client.call<ConnectManyResult>('connectMany', { ...t, concurrency: p.connectConcurrency, timeoutMs: 30_000 }, 40_000);
    if (r.connected !== t.count) throw new Error(`only ${r.connected} of ${t.count} clients connected to ${t.url} (${r.firstError})`);
    connected += r.connected;
    elapsedMs += r.elapsedMs;
  }
  return { connected, elapsedMs };
}

/**
 * Runs one trial; never throws (a failure is recorded in `error`). Every process it started is
 * ended by pid before it returns, and all of them are killed if it overruns `trialTimeoutMs`.
 */
export async function runClusterTrial(topology: Topology, rep: number, p: ClusterParams, pinned: boolean, direct: boolean): Promise<ClusterTrial> {
  const started = Date.now();
  const trial: ClusterTrial = { rep, topology: topology.id, ms: 0 };
  let cluster: Cluster | undefined;
  let client: Child | undefined;
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    client?.kill();
    void cluster?.stop();
  }, p.trialTimeoutMs);
  try {
    cluster = await startCluster(topology, { cpu: pinned ? 0 : undefined });
    if (timedOut) throw new Error('timed out while starting');
    client = Child.spawn(join(BENCH, 'client-process.ts'), [CLIENT_STACK], { name: `client(${topology.id})`, cpu: pinned ? 1 : undefined });
    await client.call('errors', null, 20_000);
    const conn = await connectClients(cluster, client, p, direct);
    const sessions = (await cluster.state()).map((s) => s.sessions);
    if (sessions.reduce((a, b) => a + b, 0) !== p.clients) throw new Error(`the nodes hold ${sessions.join('+')} sessions, not ${p.clients}`);

    const warm = await runPhase(cluster, client, p, p.moderateOffered, p.warmupMs, 'warm');
    const mod = await runPhase(cluster, client, p, p.moderateOffered, p.moderateMs, 'mod');
    const sat = await runPhase(cluster, client, p, p.saturatedOffered, p.saturatedMs, 'sat');
    const clientErrors = await client.call<number>('errors', null, 5_000);
    const nodeErrors = (await cluster.state()).reduce((n, s) => n + s.errors, 0);
    trial.metrics = { ...mod.metrics, ...sat.metrics, clientErrors, nodeErrors };
    trial.details = { connectMs: conn.elapsedMs, sessionsPerNode: sessions, balancer: cluster.balancer.stats().connections, ...warm.details, ...mod.details, ...sat.details };
  } catch (error) {
    trial.error = (timedOut ? `trial overran ${p.trialTimeoutMs} ms: ` : '') + (error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(killer);
    // Clients first, so that the nodes' shutdown is not a failure the clients see.
    await client?.stop();
    await cluster?.stop();
    trial.ms = Date.now() - started;
  }
  return trial;
}
