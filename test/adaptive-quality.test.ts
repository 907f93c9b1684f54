/**
 * Switching on measured quality, with the default policy and thresholds, through the netsim proxy:
 * the probe puts a session that connected over a slow link on SSE at once, a link that turns slow
 * moves it to SSE, a healed one brings it back to WebSocket, and a link that hovers around the
 * threshold does not make it flap.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type TransportChange, type TransportName, type WirehopClient } from '@wirehop/client';
import { startProxy } from '@wirehop/netsim';
import { createWirehop } from '@wirehop/server';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { audit, exactly, whenOn } from './helpers/streams.js';
import { waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  await fx?.close();
  fx = undefined;
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A server behind a netsim proxy that records the path of every HTTP request it gets. */
async function recorded() {
  const app = new Hono();
  const paths: string[] = [];
  app.use('*', async (c, next) => {
    paths.push(c.req.path);
    await next();
  });
  const wh = createWirehop({ onError: () => {} });
  wh.channel('stream');
  wh.mount(app);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  wh.attach(server);
  await new Promise((r) => server.once('listening', r));
  const proxy = await startProxy({ target: { port: (server.address() as AddressInfo).port } });
  const clients: WirehopClient[] = [];
  cleanup.push(async () => {
    for (const c of clients) c.close();
    await proxy.close();
    await wh.close();
    await new Promise((r) => server.close(r));
  });
  const client = () => {
    const c = createClient({ url: `${proxy.url}/wirehop` });
    clients.push(c);
    return c;
  };
  return { wh, proxy, paths, client };
}

describe('the probe', () => {
  it('on a fast link: no request before the WebSocket, and the session stays there', async () => {
    const { paths, client } = await recorded();
    const c = client();
    const changes: TransportChange[] = [];
    c.on('transport', (e) => changes.push(e));
    await c.connect();
    await waitFor(() => c.stats.rtt !== null); // the probe's one sample
    expect(c.transport).toBe('websocket');
    expect(changes.map((e) => [e.to, e.reason])).toEqual([['websocket', 'session_created']]);
    expect(paths).toEqual([]); // the upgrade is the only request, and it never reaches the app's routes
  });

  it('on a slow link: the first PING answer moves the session to SSE, without a gap in its events', async () => {
    const { wh, proxy, paths, client } = await recorded();
    proxy.set({ latencyMs: 200 }); // +400 ms RTT, over maxRttMs
    const c = client();
    const got: number[] = [];
    c.channel('stream').on('e', (d) => got.push(d as number));
    const onSse = whenOn(c, 'sse', 15_000);
    await c.connect();
    expect(c.transport).toBe('websocket'); // no probe request went first
    await c.channel('stream').subscribe();
    const session = c.sessionId;
    let sent = 0;
    const publishing = setInterval(() => wh.publish('stream', 'e', sent++), 20);
    const { event } = await onSse;
    expect(event?.reason).toBe('probe');
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(publishing);
    await waitFor(() => got.length >= sent, { timeoutMs: 10_000 });
    expect(audit(got, sent)).toEqual(exactly(sent));
    expect(c.sessionId).toBe(session);
    expect(c.stats.switches).toBe(1);
    expect(paths).not.toContain('/wirehop/ping');
  }, 30_000);
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
