/**
 * (2) Pipelined upstream + echo throughput, one client: `window` messages in flight, each echo
 * releases the next, for a fixed time. Distinct echoes per second, after a warm-up run.
 */
import type { ClientEnv, ClientTask, Scenario } from './types.js';
import { windowedEcho, type WindowRun } from './window.js';

interface UpstreamArgs {
  url: string;
  warmupMs: number;
  durationMs: number;
  window: number;
  drainMs: number;
}

async function upstream(env: ClientEnv, a: UpstreamArgs): Promise<WindowRun> {
  const conn = await env.client.connect(a.url);
  env.connections.push(conn);
  await windowedEcho(conn, { window: a.window, durationMs: a.warmupMs, drainMs: a.drainMs });
  return windowedEcho(conn, { window: a.window, durationMs: a.durationMs, drainMs: a.drainMs });
}

export const upstreamClientTasks = { upstream: upstream as ClientTask<UpstreamArgs> };

export const upstreamScenario: Scenario = {
  id: 'upstream',
  title: 'pipelined upstream + echo, 1 client',
  metrics: [{ key: 'rate', label: 'upstream+echo', unit: 'msg/s', better: 'higher', digits: 0 }],
  async run({ client, url, params }) {
    const drainMs = 10_000;
    const r = await client.call<WindowRun>('upstream', { url, ...params.upstream, drainMs } satisfies UpstreamArgs, params.trialTimeoutMs);
    if (r.received !== r.sent) throw new Error(`upstream: ${r.sent - r.received} of ${r.sent} echoes never came back`);
    return { metrics: { rate: (r.received / r.elapsedMs) * 1000 }, details: { ...r } };
  },
};
