/**
 * (5) Connection setup rate: N connections opened `concurrency` at a time, each counted once it can
 * carry messages (stack handshake included: WebSocket upgrade, Socket.IO handshake, wirehop
 * HELLO/WELCOME and subscription, the SSE stream's first event), after an untimed warm-up batch.
 * Connections stay open until the end, so closing them is not timed. With every client in one
 * process, the client side often sets the rate; the server's CPU time per connection is reported
 * beside it, as the figure that does not depend on how heavy the clients are.
 */
import { withCpu, type ConnectManyResult } from './common.js';
import type { Scenario } from './types.js';

export const setupScenario: Scenario = {
  id: 'setup',
  title: 'connection setup rate',
  metrics: [
    { key: 'rate', label: 'setup rate (concurrency 50)', unit: 'conn/s', better: 'higher', digits: 0 },
    { key: 'serverCpu', label: 'setup: server CPU per connection', unit: 'µs', better: 'lower', digits: 0 },
  ],
  async run({ server, client, url, params }) {
    const { count, concurrency, warmup } = params.setup;
    // Untimed first: the first connections load lazily required modules (undici, ws, parsers).
    const w = await client.call<ConnectManyResult>('connectMany', { url, count: warmup, concurrency, timeoutMs: 20_000 }, 25_000);
    if (w.connected !== warmup) throw new Error(`setup: warm-up connected ${w.connected} of ${warmup} (${w.firstError})`);
    const [c, cpu] = await withCpu(server, client, () =>
      client.call<ConnectManyResult>('connectMany', { url, count, concurrency, timeoutMs: params.trialTimeoutMs - 10_000 }, params.trialTimeoutMs),
    );
    if (c.connected !== count) throw new Error(`setup: ${c.connected} of ${count} connected, ${c.failed} failed (${c.firstError})`);
    return { metrics: { rate: (c.connected / c.elapsedMs) * 1000, serverCpu: (cpu.serverCpuMs / c.connected) * 1000 }, details: { ...c, ...cpu } };
  },
};
