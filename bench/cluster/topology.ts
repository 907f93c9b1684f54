/**
 * Starting and stopping one topology of the cluster benchmark: a private redis-server (for the
 * Redis topologies), the wirehop node processes and the round-robin TCP balancer in front of them,
 * all through the test suite's own helpers (test/helpers: startRedis, startNode, startBalancer),
 * all on 127.0.0.1 with ports chosen by the OS. Every process started here is ended by its pid.
 *
 * CPU time of the server side is read from /proc/<pid>/stat (all threads of the process), for the
 * nodes and for Redis alike, so that their costs add up on one scale.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startBalancer, type Balancer } from '../../test/helpers/balancer.js';
import { startNode, type NodeProcess } from '../../test/helpers/node-process.js';
import { startRedis, type RedisServer } from '../../test/helpers/redis.js';
import type { Topology } from './config.js';

const NODE_SCRIPT = fileURLToPath(new URL('./node.ts', import.meta.url));
const CLK_TCK = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();
const HAS_TASKSET = process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** CPU time (user + system, every thread) a process has used so far, in ms; NaN if unreadable. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time the whole machine has spent busy so far (all cores, everything but idle and iowait), in
 * ms; NaN if unreadable. Minus what the benchmark's own processes used, it is the other work that
 * ran meanwhile: on a shared machine, the figure that says how far to trust a trial.
 */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return ((total - (v[3] ?? 0) - (v[4] ?? 0)) / CLK_TCK) * 1000;
  } catch {
    return Number.NaN;
  }
}

/** Moves every thread of `pid` to `cpu`; false if taskset is missing or failed. */
export function pin(pid: number, cpu: number): boolean {
  return HAS_TASKSET && spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}

export const canPin = HAS_TASKSET;

export interface NodeState {
  sessions: number;
  publishFailed: number;
  errors: number;
}

/** A running topology. */
export interface Cluster {
  topology: Topology;
  /** What clients connect to: the balancer's wirehop URL. */
  url: string;
  nodes: NodeProcess[];
  redis?: RedisServer;
  balancer: Balancer;
  /** POSTs to one node's control API; rejects on a non-2xx answer or after `timeoutMs`. */
  control<T>(node: number, path: string, body: unknown, timeoutMs: number): Promise<T>;
  state(timeoutMs?: number): Promise<NodeState[]>;
  /** CPU ms used so far by each node and by Redis (NaN without Redis). */
  cpu(): { nodes: number[]; redis: number };
  /** Ends everything it started, by pid; never throws. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `topology`: Redis first, then the nodes (in parallel), then the balancer. With `cpu`, the
 * server side (Redis and every node) is pinned to that core. On failure, what was started is stopped.
 */
export async function startCluster(topology: Topology, options: { cpu?: number }): Promise<Cluster> {
  let redis: RedisServer | undefined;
  const nodes: NodeProcess[] = [];
  let balancer: Balancer | undefined;
  const stopAll = async () => {
    await balancer?.close().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await redis?.stop().catch(() => undefined);
  };
  try {
    if (topology.broker === 'redis') {
      redis = await startRedis();
      if (options.cpu !== undefined) pin(redis.pid, options.cpu);
    }
    const started = await Promise.allSettled(
      Array.from({ length: topology.nodes }, (_, i) =>
        startNode({ script: NODE_SCRIPT, env: { BROKER: topology.broker, REDIS_URL: redis?.url, NODE_ID: `n${i + 1}` }, readyTimeoutMs: 30_000 }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (options.cpu !== undefined) for (const n of nodes) pin(n.pid, options.cpu);
    balancer = await startBalancer(nodes.map((n) => n.port));
  } catch (error) {
    await stopAll();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const control = async <T>(node: number, path: string, body: unknown, timeoutMs: number): Promise<T> => {
    const target = nodes[node];
    if (!target) throw new Error(`no node ${node}`);
    const res = await fetch(`${target.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`node n${node + 1} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    topology,
    url: `${balancer.url}/wirehop`,
    nodes,
    redis,
    balancer,
    control,
    state: (timeoutMs = 5_000) => Promise.all(nodes.map((_, i) => control<NodeState>(i, '/bench/state', undefined, timeoutMs))),
    cpu: () => ({ nodes: nodes.map((n) => procCpuMs(n.pid)), redis: redis ? procCpuMs(redis.pid) : Number.NaN }),
    stop: () => (stopped ??= stopAll()),
  };
}
