/**
 * (4) Server memory per idle connection: RSS and V8 heap of the server process after full GCs
 * (it runs with --expose-gc), before and after N clients connected and went idle, divided by N.
 * A warm-up round connects and closes a few clients first: the code of the connection path is
 * compiled once (bytecode, optimized code, feedback), not per connection, and would otherwise be
 * counted against the N connections of the measured round.
 */
import { sleep } from '../lib/clock.js';
import type { ConnectManyResult } from './common.js';
import type { Scenario, ServerTask } from './types.js';

interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
}

/** Server task: a few full GCs (finalizers get a turn in between), then process.memoryUsage(). */
async function memory(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the server process needs --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(20);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

export const memoryServerTasks = { memory: memory as ServerTask<null> };

export const memoryScenario: Scenario = {
  id: 'memory',
  title: 'server memory per idle connection',
  metrics: [
    { key: 'rss', label: 'server RSS / idle conn', unit: 'KiB', better: 'lower', digits: 1 },
    { key: 'heap', label: 'server heap / idle conn', unit: 'KiB', better: 'lower', digits: 1 },
  ],
  async run({ server, client, url, params }) {
    const n = params.memory.clients;
    const { warmup } = params.memory;
    const w = await client.call<ConnectManyResult>('connectMany', { url, count: warmup, concurrency: params.connectConcurrency, timeoutMs: 30_000 }, 40_000);
    if (w.connected !== warmup) throw new Error(`memory: warm-up connected ${w.connected} of ${warmup} (${w.firstError})`);
    await client.call<number>('closeAll', null, 10_000);
    await sleep(params.memory.settleMs);
    const before = await server.call<MemorySample>('memory', null, 10_000);
    const c = await client.call<ConnectManyResult>('connectMany', { url, count: n, concurrency: params.connectConcurrency, timeoutMs: 60_000 }, 70_000);
    if (c.connected !== n) throw new Error(`memory: only ${c.connected} of ${n} clients connected (${c.firstError})`);
    // Idle means idle: let handshakes, upgrades (Socket.IO) and first acks settle before measuring.
    await sleep(params.memory.settleMs);
    const seen = await server.call<number>('connections', null, 5_000);
    if (seen < n) throw new Error(`memory: the server sees ${seen} of ${n} clients`);
    const after = await server.call<MemorySample>('memory', null, 10_000);
    return {
      metrics: { rss: (after.rss - before.rss) / n / 1024, heap: (after.heapUsed - before.heapUsed) / n / 1024 },
      details: { clients: n, warmup, before, after, connectMs: c.elapsedMs },
    };
  },
};
