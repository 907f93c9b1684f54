/**
 * Sizes of the cluster benchmark (`npm run bench:cluster`). Offered rates are deliveries per second
 * (publications per second × clients), as in the main benchmark's fan-out scenario, so the two read
 * the same way. `quick` runs in about a minute, `full` in three to four.
 */

/** One way of running wirehop: which broker, how many node processes. */
export interface Topology {
  id: 'memory-1' | 'redis-1' | 'redis-3';
  label: string;
  broker: 'memory' | 'redis';
  nodes: number;
}

export const TOPOLOGIES: readonly Topology[] = [
  { id: 'memory-1', label: '1 node, in-memory broker', broker: 'memory', nodes: 1 },
  { id: 'redis-1', label: '1 node on Redis', broker: 'redis', nodes: 1 },
  { id: 'redis-3', label: '3 nodes on Redis', broker: 'redis', nodes: 3 },
];

/** Every ratio in the report is against this topology, measured in the same run. */
export const BASELINE_TOPOLOGY = 'memory-1';

export interface ClusterParams {
  mode: 'quick' | 'full';
  /** Trials per topology; the report gives their median and min–max. */
  repeats: number;
  /** Clients, all in one client process, spread over the nodes by the round-robin balancer. */
  clients: number;
  /** Offered deliveries per second of the latency phase: well below what any topology can carry. */
  moderateOffered: number;
  /** Offered deliveries per second of the throughput phase: more than any topology can carry here. */
  saturatedOffered: number;
  warmupMs: number;
  moderateMs: number;
  saturatedMs: number;
  /** How long the clients may take, after the last publication, to receive everything. */
  drainMs: number;
  /** One trial (start processes, connect, three phases, stop) is killed after this. */
  trialTimeoutMs: number;
  /** The whole run stops starting trials after this, and reports what it has. */
  runBudgetMs: number;
  connectConcurrency: number;
}

const full: ClusterParams = {
  mode: 'full',
  repeats: 5,
  clients: 500,
  moderateOffered: 25_000,
  saturatedOffered: 500_000,
  warmupMs: 500,
  moderateMs: 3_000,
  saturatedMs: 2_000,
  drainMs: 10_000,
  trialTimeoutMs: 90_000,
  runBudgetMs: 300_000,
  connectConcurrency: 50,
};

const quick: ClusterParams = {
  mode: 'quick',
  repeats: 3,
  clients: 100,
  moderateOffered: 25_000,
  saturatedOffered: 500_000,
  warmupMs: 300,
  moderateMs: 1_000,
  saturatedMs: 600,
  drainMs: 5_000,
  trialTimeoutMs: 45_000,
  runBudgetMs: 120_000,
  connectConcurrency: 50,
};

export function clusterParamsFor(mode: 'quick' | 'full'): ClusterParams {
  return structuredClone(mode === 'quick' ? quick : full);
}
