/**
 * (6) wirehop only: an echo stream (events both ways, `window` in flight) while the client moves
 * its session between WebSocket and SSE every `everyMs`. Compared with the same stream without
 * switching, on each transport for the same time (the switching run spends about half its time on
 * each, so the reference is the mean of the two rates). Segments alternate ws, SSE, switching,
 * switching, SSE, ws to cancel drift. Every echo is checked: lost, duplicated and reordered ones are
 * counted; the guarantee says all three are 0.
 */
import { now, sleep } from '../lib/clock.js';
import type { BenchConnection } from '../stacks/types.js';
import type { ClientEnv, ClientTask, Scenario } from './types.js';
import { Unavailable } from './types.js';
import { windowedEcho, type WindowRun } from './window.js';

interface SwitchArgs {
  url: string;
  warmupMs: number;
  durationMs: number;
  everyMs: number;
  window: number;
  drainMs: number;
}

/** One kind of segment's totals: windowed runs added up. */
interface Totals {
  sent: number;
  received: number;
  duplicated: number;
  reordered: number;
  elapsedMs: number;
}

type SwitchResult =
  | { unavailable: string }
  | { websocket: Totals; sse: Totals; switching: Totals; switches: number; switchErrors: number; firstSwitchError?: string; clientErrors: number };

function add(t: Totals, r: WindowRun): void {
  t.sent += r.sent;
  t.received += r.received;
  t.duplicated += r.duplicated;
  t.reordered += r.reordered;
  t.elapsedMs += r.elapsedMs;
}

const zero = (): Totals => ({ sent: 0, received: 0, duplicated: 0, reordered: 0, elapsedMs: 0 });

async function moveTo(conn: BenchConnection, to: 'websocket' | 'sse'): Promise<void> {
  if (conn.transport !== to) await conn.switchTransport!(to);
  if (conn.transport !== undefined && conn.transport !== to) throw new Error(`switchTransport('${to}') resolved on ${conn.transport}`);
}

async function switching(env: ClientEnv, a: SwitchArgs): Promise<SwitchResult> {
  const conn = await env.client.connect(a.url);
  env.connections.push(conn);
  if (!conn.switchTransport) return { unavailable: 'the wirehop client has no switchTransport() yet' };
  const run = (durationMs: number) => windowedEcho(conn, { window: a.window, durationMs, drainMs: a.drainMs });
  // Warm both paths up first (JIT, connection pools).
  await moveTo(conn, 'sse');
  await run(a.warmupMs);
  await moveTo(conn, 'websocket');
  await run(a.warmupMs);

  const totals = { websocket: zero(), sse: zero(), switching: zero() };
  let switches = 0;
  let switchErrors = 0;
  let firstSwitchError: string | undefined;
  const switchingRun = async (durationMs: number) => {
    let running = true;
    const switcher = (async () => {
      let target: 'websocket' | 'sse' = conn.transport === 'sse' ? 'websocket' : 'sse';
      for (let next = now() + a.everyMs; running; next += a.everyMs) {
        await sleep(Math.max(0, next - now()));
        if (!running) break;
        try {
          await conn.switchTransport!(target);
          switches++;
        } catch (error) {
          switchErrors++;
          firstSwitchError ??= String(error);
        }
        target = target === 'sse' ? 'websocket' : 'sse';
      }
    })();
    const r = await run(durationMs);
    running = false;
    await switcher;
    return r;
  };
  // Segments in the order ws, SSE, switching, switching, SSE, ws (half the time each), so that a
  // machine that speeds up or slows down during the trial weighs on all three alike.
  const half = a.durationMs / 2;
  for (const kind of ['websocket', 'sse', 'switching', 'switching', 'sse', 'websocket'] as const) {
    if (kind === 'switching') add(totals.switching, await switchingRun(half));
    else {
      await moveTo(conn, kind);
      add(totals[kind], await run(half));
    }
  }
  return { ...totals, switches, switchErrors, firstSwitchError, clientErrors: env.client.errors };
}

export const switchingClientTasks = { switching: switching as ClientTask<SwitchArgs> };

const rate = (r: Totals) => (r.received / r.elapsedMs) * 1000;

export const switchingScenario: Scenario = {
  id: 'switching',
  title: 'transport switched every 50 ms (wirehop only)',
  appliesTo: (stack) => stack === 'wirehop',
  metrics: [
    { key: 'relative', label: 'switching: throughput vs no switching', unit: '%', better: 'higher', digits: 0 },
    { key: 'switchRate', label: 'switching: echo stream', unit: 'msg/s', better: 'higher', digits: 0 },
    { key: 'wsRate', label: 'switching: reference on ws', unit: 'msg/s', better: 'higher', digits: 0 },
    { key: 'sseRate', label: 'switching: reference on SSE', unit: 'msg/s', better: 'higher', digits: 0 },
    { key: 'switches', label: 'switching: switches done', unit: 'count', better: 'higher', digits: 0 },
    { key: 'lost', label: 'switching: lost', unit: 'msgs', better: 'lower', digits: 0 },
    { key: 'disorder', label: 'switching: duplicated+reordered', unit: 'msgs', better: 'lower', digits: 0 },
  ],
  async run({ client, url, params }) {
    const s = params.switching;
    const drainMs = 10_000;
    const r = await client.call<SwitchResult>('switching', { url, ...s, drainMs } satisfies SwitchArgs, params.trialTimeoutMs);
    if ('unavailable' in r) throw new Unavailable(r.unavailable);
    const runs = [r.websocket, r.sse, r.switching];
    const reference = (rate(r.websocket) + rate(r.sse)) / 2;
    return {
      metrics: {
        relative: (rate(r.switching) / reference) * 100,
        switchRate: rate(r.switching),
        wsRate: rate(r.websocket),
        sseRate: rate(r.sse),
        switches: r.switches,
        lost: runs.reduce((n, x) => n + x.sent - x.received, 0),
        disorder: runs.reduce((n, x) => n + x.duplicated + x.reordered, 0),
      },
      details: { ...r },
    };
  },
};
