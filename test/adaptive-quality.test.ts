/**
 * Switching on measured quality, with the default policy and thresholds, through the netsim proxy:
 * a slow link moves the session to SSE, a healed one brings it back to WebSocket, and a link that
 * hovers around the threshold does not make it flap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportName } from '@wirehop/client';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { whenOn } from './helpers/streams.js';
import { waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('switching on measured RTT', () => {
  it('400 ms of added RTT moves a WebSocket session to SSE within 5 s, and healing brings it back within 20 s', async () => {
    fx = await startFixture();
    fx.wh.channel('stream');
    const { url, proxy } = await fx.proxied();
    const client = fx.client({ url, transports: ['websocket', 'sse'] });
    const got: number[] = [];
    client.channel('stream').on('e', (d) => got.push(d as number));
    await client.connect();
    await client.channel('stream').subscribe();
    expect(client.transport).toBe('websocket');
    const session = client.sessionId;

    const toSse = whenOn(client, 'sse', 15_000);
    const degradedAt = performance.now();
    proxy.set({ latencyMs: 200 }); // each way: +400 ms RTT
    const down = await toSse;
    expect(down.event?.reason).toBe('degraded');
    expect(down.at - degradedAt).toBeLessThan(5_000);
    expect(down.event?.quality.rtt).toBeGreaterThan(300);

    const toWs = whenOn(client, 'websocket', 30_000);
    const healedAt = performance.now();
    proxy.heal();
    const up = await toWs;
    expect(up.event?.reason).toBe('recovered');
    expect(up.at - healedAt).toBeLessThan(20_000);

    // Same session throughout, and it still carries events in order.
    for (let i = 0; i < 50; i++) fx.wh.publish('stream', 'e', i);
    await waitFor(() => got.length === 50);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(client.sessionId).toBe(session);
    expect(client.stats.switches).toBe(2);
  }, 60_000);

  it('RTT oscillating around the threshold causes at most 2 switches in a minute', async () => {
    fx = await startFixture();
    const { url, proxy } = await fx.proxied();
    const client = fx.client({ url, transports: ['websocket', 'sse'] });
    await client.connect();
    const switches: Array<{ to: TransportName | null; reason: string }> = [];
    client.on('transport', (e) => switches.push(e));
    // Default threshold 300 ms: alternate 260 ms and 340 ms of RTT every 2 s, for a minute.
    const started = performance.now();
    let high = false;
    while (performance.now() - started < 60_000) {
      high = !high;
      proxy.set({ latencyMs: high ? 170 : 130 });
      await new Promise((r) => setTimeout(r, 2_000));
    }
    expect(switches.length).toBeLessThanOrEqual(2);
    expect(client.sessionId).not.toBeNull();
  }, 90_000);
});
