/**
 * What a scenario is. Its parent half (`run`) drives one trial through RPC calls to the two
 * processes; its child halves are tasks that run against the stack interface only
 * (BenchServer/BenchClient), so each scenario is written once for every stack.
 */
import type { Params } from '../lib/config.js';
import type { Child } from '../lib/rpc.js';
import type { BenchClient, BenchConnection, BenchServer } from '../stacks/types.js';

export interface Metric {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Decimals in the report. */
  digits: number;
}

/** One scenario on one stack: both processes are up and the server is listening at `url`. */
export interface TrialContext {
  stack: string;
  params: Params;
  server: Child;
  client: Child;
  url: string;
}

/** What a trial produced: metric values, plus anything else worth keeping in latest.json. */
export interface TrialResult {
  metrics: Record<string, number>;
  details?: Record<string, unknown>;
}

/** Thrown by `run` when the scenario cannot run on this stack as built (reported, not a failure). */
export class Unavailable extends Error {}

export interface Scenario {
  id: string;
  title: string;
  metrics: Metric[];
  /** Which stacks it runs on; default all. */
  appliesTo?: (stack: string) => boolean;
  run(ctx: TrialContext): Promise<TrialResult>;
}

/** What client-side tasks work with: the stack's client half and the connections opened so far. */
export interface ClientEnv {
  client: BenchClient;
  connections: BenchConnection[];
}

export interface ServerEnv {
  server: BenchServer;
}

export type ClientTask<A = never> = (env: ClientEnv, args: A) => Promise<unknown>;
export type ServerTask<A = never> = (env: ServerEnv, args: A) => unknown;
