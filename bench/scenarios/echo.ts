/**
 * (1) Echo round trip, one client, strictly sequential: send one message, wait for its echo, send
 * the next. p50/p99 of the round trips after a warm-up, measured in the client process alone.
 *
 * The warm-up is counted in round trips as well as in time, the same for every stack: what it waits
 * for is the JIT, which optimizes a path after so many runs of it, not after so many milliseconds.
 * Here p50 settled after about 2,500 round trips on WebSocket and 5,000 on SSE+POST (blocks of 500
 * from a cold start); a time-only warm-up of 500 ms gave a slow stack a fifth of the round trips of
 * a fast one, and measured its p50 while it was still being compiled.
 */
import { now } from '../lib/clock.js';
import { encodePayload, payloadSeq } from '../lib/payload.js';
import { latencySummary } from '../lib/stats.js';
import type { ClientEnv, ClientTask, Scenario } from './types.js';

interface EchoArgs {
  url: string;
  warmupMs: number;
  warmupRoundTrips: number;
  count: number;
  timeoutMs: number;
}

interface EchoResult {
  p50: number;
  p99: number;
  warmup: number;
  mismatched: number;
}

async function echo(env: ClientEnv, a: EchoArgs): Promise<EchoResult> {
  const conn = await env.client.connect(a.url);
  env.connections.push(conn);
  const samples = new Float64Array(a.count);
  let waiter: ((data: string) => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  conn.onMessage((data) => {
    const w = waiter;
    waiter = undefined;
    w?.(data);
  });
  const watchdog = setTimeout(() => failed?.(new Error(`echo: not done within ${a.timeoutMs} ms`)), a.timeoutMs);
  let mismatched = 0;
  let seq = 0;
  /** One round trip; returns its duration in ms. */
  const roundTrip = async () => {
    const i = seq++;
    const t0 = now();
    const reply = await new Promise<string>((resolve, reject) => {
      waiter = resolve;
      failed = reject;
      conn.send(encodePayload(i, t0));
    });
    const rtt = now() - t0;
    if (payloadSeq(reply) !== i) mismatched++;
    return rtt;
  };
  try {
    const warmEnd = now() + a.warmupMs;
    while (now() < warmEnd || seq < a.warmupRoundTrips) await roundTrip();
    for (let i = 0; i < a.count; i++) samples[i] = await roundTrip();
  } finally {
    clearTimeout(watchdog);
  }
  const { p50, p99 } = latencySummary(samples, a.count);
  return { p50, p99, warmup: seq - a.count, mismatched };
}

export const echoClientTasks = { echo: echo as ClientTask<EchoArgs> };

export const echoScenario: Scenario = {
  id: 'echo',
  title: 'echo round trip, 1 client, sequential',
  metrics: [
    { key: 'p50', label: 'echo p50', unit: 'µs', better: 'lower', digits: 0 },
    { key: 'p99', label: 'echo p99', unit: 'µs', better: 'lower', digits: 0 },
  ],
  async run({ client, url, params }) {
    const timeoutMs = params.trialTimeoutMs - 5_000;
    const r = await client.call<EchoResult>('echo', { url, ...params.echo, timeoutMs } satisfies EchoArgs, timeoutMs + 2_000);
    if (r.mismatched) throw new Error(`echo: ${r.mismatched} answers were not the echo of the message just sent`);
    return { metrics: { p50: r.p50 * 1000, p99: r.p99 * 1000 }, details: { warmupRoundTrips: r.warmup } };
  },
};
