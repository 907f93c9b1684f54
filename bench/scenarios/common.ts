/** Tasks several scenarios share: opening many connections with bounded concurrency, closing them. */
import { now } from '../lib/clock.js';
import type { Child } from '../lib/rpc.js';
import type { ClientEnv, ClientTask, ServerEnv, ServerTask } from './types.js';

export interface ConnectManyArgs {
  url: string;
  count: number;
  concurrency: number;
  timeoutMs: number;
}

export interface ConnectManyResult {
  connected: number;
  failed: number;
  elapsedMs: number;
  firstError?: string;
}

/** Opens `count` connections, `concurrency` at a time; keeps them in env.connections. */
export async function connectMany(env: ClientEnv, a: ConnectManyArgs): Promise<ConnectManyResult> {
  const start = now();
  const deadline = start + a.timeoutMs;
  let next = 0;
  let connected = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < a.count && now() < deadline) {
      next++;
      try {
        env.connections.push(await env.client.connect(a.url));
        connected++;
      } catch (error) {
        failed++;
        firstError ??= String(error instanceof Error ? error.message : error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(a.concurrency, a.count) }, worker));
  return { connected, failed, elapsedMs: now() - start, firstError };
}

/** Closes every connection this process opened. */
export function closeAll(env: ClientEnv): number {
  const n = env.connections.length;
  for (const c of env.connections.splice(0)) c.close();
  return n;
}

/** CPU time this process used so far (user + system), in ms, and the wall clock then. */
export interface CpuSample {
  cpuMs: number;
  at: number;
}

export function cpuSample(): CpuSample {
  const u = process.cpuUsage();
  return { cpuMs: (u.user + u.system) / 1000, at: now() };
}

/** Share of one core used between two samples, in %. */
export function cpuPercent(a: CpuSample, b: CpuSample): number {
  return b.at > a.at ? ((b.cpuMs - a.cpuMs) / (b.at - a.at)) * 100 : Number.NaN;
}

export interface CpuUse {
  /** CPU time the server process used, ms. */
  serverCpuMs: number;
  /** CPU time the client process used, ms. */
  clientCpuMs: number;
  /** Share of one core each process used, %. */
  serverCpuPct: number;
  clientCpuPct: number;
}

/** Parent side: runs `fn` and reports the CPU each process used meanwhile. */
export async function withCpu<T>(server: Child, client: Child, fn: () => Promise<T>): Promise<[T, CpuUse]> {
  const sample = () => Promise.all([server.call<CpuSample>('cpu', null, 5_000), client.call<CpuSample>('cpu', null, 5_000)]);
  const [s0, c0] = await sample();
  const value = await fn();
  const [s1, c1] = await sample();
  return [value, { serverCpuMs: s1.cpuMs - s0.cpuMs, clientCpuMs: c1.cpuMs - c0.cpuMs, serverCpuPct: cpuPercent(s0, s1), clientCpuPct: cpuPercent(c0, c1) }];
}

export const commonClientTasks = {
  cpu: (async () => cpuSample()) as ClientTask<null>,
  connectMany: connectMany as ClientTask<ConnectManyArgs>,
  closeAll: (async (env: ClientEnv) => closeAll(env)) as ClientTask<null>,
  errors: (async (env: ClientEnv) => env.client.errors) as ClientTask<null>,
};

export const commonServerTasks = {
  cpu: (() => cpuSample()) as ServerTask<null>,
  start: ((env: ServerEnv, a: { port: number }) => env.server.start(a.port)) as ServerTask<{ port: number }>,
  connections: ((env: ServerEnv) => env.server.connections) as ServerTask<null>,
  close: ((env: ServerEnv) => env.server.close()) as ServerTask<null>,
};
