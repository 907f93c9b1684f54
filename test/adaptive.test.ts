/**
 * Adaptive transport, end to end through the netsim impairment proxy: switching a live session
 * between WebSocket and SSE+POST loses, duplicates and reorders nothing; a WebSocket that cannot be
 * used (stripped, silent, blackholed) leaves the client on SSE quickly; a long outage resumes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportName } from '@wirehop/client';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { audit, exactly, whenOn } from './helpers/streams.js';
import { nextEvent, waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('switching transports mid-session', () => {
  it('10,000 events down and 2,000 messages up while the transport is switched every 50 ms: nothing lost, duplicated or reordered', async () => {
    fx = await startFixture();
    fx.wh.channel('stream');
    const upstream: number[] = [];
    fx.wh.onMessage('n', (d) => void upstream.push(d as number));
    // Manual switching only: the adaptive policy must not interfere with the test's own schedule.
    const client = fx.client({ transports: ['websocket', 'sse'], adaptive: false });
    const downstream: number[] = [];
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    client.channel('stream').on('e', (d) => downstream.push(d as number));
    await client.connect();
    await client.channel('stream').subscribe();
    const session = client.sessionId;

    const EVENTS = 10_000;
    const MESSAGES = 2_000;
    const TICKS = 250; // 40 events and 8 messages every 10 ms: about 2.5 s of traffic
    let stop = false;
    const seen = new Set<TransportName>();
    const switcher = (async () => {
      let to: TransportName = 'sse';
      while (!stop) {
        await client.switchTransport(to).then(() => seen.add(to), () => undefined);
        to = to === 'sse' ? 'websocket' : 'sse';
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const acked: Array<Promise<void>> = [];
    for (let t = 0; t < TICKS; t++) {
      for (let i = 0; i < EVENTS / TICKS; i++) fx.wh.publish('stream', 'e', t * (EVENTS / TICKS) + i);
      for (let i = 0; i < MESSAGES / TICKS; i++) acked.push(client.send('n', t * (MESSAGES / TICKS) + i));
      await tick();
    }
    await Promise.all(acked);
    await waitFor(() => downstream.length >= EVENTS, { what: 'every event' });
    stop = true;
    await switcher;

    expect(seen).toEqual(new Set(['websocket', 'sse']));
    expect(client.stats.switches).toBeGreaterThanOrEqual(20);
    expect(gaps).toEqual([]);
    expect(client.sessionId).toBe(session);
    expect(audit(downstream, EVENTS)).toEqual(exactly(EVENTS));
    expect(audit(upstream, MESSAGES)).toEqual(exactly(MESSAGES));
  }, 60_000);

  it('switchTransport reports from, to and reason, and requests keep working on each side', async () => {
    fx = await startFixture();
    fx.wh.onRequest('where', (_d, s) => s.transport);
    const client = fx.client({ transports: ['websocket', 'sse'], adaptive: false });
    await client.connect();
    expect(client.transport).toBe('websocket');
    const event = nextEvent<[{ from: TransportName | null; to: TransportName | null; reason: string }]>((l) => client.on('transport', l));
    await client.switchTransport('sse');
    expect((await event)[0]).toMatchObject({ from: 'websocket', to: 'sse', reason: 'manual' });
    await expect(client.request('where')).resolves.toBe('sse');
    await client.switchTransport('websocket');
    await expect(client.request('where')).resolves.toBe('websocket');
    expect(client.stats.switches).toBe(2);
  });
});

describe('when WebSocket cannot be used', () => {
  it.each(['strip', 'silent'] as const)('upgrade %s by a proxy: first connected on SSE within 2 s', async (mode) => {
    fx = await startFixture();
    const { url, proxy } = await fx.proxied();
    proxy.set({ upgrade: mode });
    const started = performance.now();
    const client = fx.client({ url, transports: ['websocket', 'sse'] });
    await client.connect();
    const elapsed = performance.now() - started;
    expect(client.transport).toBe('sse');
    expect(elapsed).toBeLessThan(2_000);
    expect(mode === 'strip' ? proxy.stats.upgradesStripped : proxy.stats.upgradesSilenced).toBeGreaterThanOrEqual(1);
  });

  it('a WELCOME that arrived while the process was too busy to read it is read before the timeout counts: no fallback', async () => {
    fx = await startFixture();
    // The WELCOME is on the socket before this runs; the process then stalls past the client's
    // WebSocket timeout. When it wakes, the expired timer and the waiting WELCOME are both due.
    fx.wh.on('session', () => {
      setImmediate(() => {
        const until = performance.now() + 400;
        while (performance.now() < until);
      });
    });
    const client = fx.client({ transports: ['websocket', 'sse'], adaptive: { websocketTimeoutMs: 150 } });
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    await client.connect();
    expect(client.transport).toBe('websocket');
    expect(errors).toEqual([]);
  });

  it('a blackholed WebSocket is detected within heartbeat + timeout and the session moves to SSE without loss', async () => {
    const heartbeatMs = 500;
    const heartbeatTimeoutMs = 500;
    fx = await startFixture({ heartbeatMs, heartbeatTimeoutMs });
    fx.wh.channel('stream');
    const upstream: number[] = [];
    fx.wh.onMessage('n', (d) => void upstream.push(d as number));
    const { url, proxy } = await fx.proxied();
    const client = fx.client({ url, transports: ['websocket', 'sse'] });
    const downstream: number[] = [];
    client.channel('stream').on('e', (d) => downstream.push(d as number));
    await client.connect();
    await client.channel('stream').subscribe();
    expect(client.transport).toBe('websocket');
    const session = client.sessionId;

    let n = 0;
    let m = 0;
    const acked: Array<Promise<void>> = [];
    for (let i = 0; i < 20; i++, n++) fx.wh.publish('stream', 'e', n);
    for (let i = 0; i < 5; i++, m++) acked.push(client.send('n', m));
    await waitFor(() => downstream.length === n);

    const onSse = whenOn(client, 'sse', 10_000);
    const blackholedAt = performance.now();
    proxy.set({ blackhole: 'websocket' });
    // Traffic keeps flowing into the dead path both ways until the client notices.
    for (let i = 0; i < 20; i++, n++) fx.wh.publish('stream', 'e', n);
    for (let i = 0; i < 5; i++, m++) acked.push(client.send('n', m));
    const { at: switchedAt } = await onSse;
    // Detection is bounded by heartbeat + timeout; the SSE resume adds one local round trip, with no
    // backoff (measured here: 3–6 ms; the margin is for a loaded CI machine).
    expect(switchedAt - blackholedAt).toBeLessThan(heartbeatMs + heartbeatTimeoutMs + 250);

    for (let i = 0; i < 20; i++, n++) fx.wh.publish('stream', 'e', n);
    for (let i = 0; i < 5; i++, m++) acked.push(client.send('n', m));
    await Promise.all(acked);
    await waitFor(() => downstream.length >= n, { what: 'every event' });
    expect(client.sessionId).toBe(session);
    expect(audit(downstream, n)).toEqual(exactly(n));
    expect(audit(upstream, m)).toEqual(exactly(m));
  }, 30_000);
});

describe('a long outage', () => {
  it('link down for 10 s and back: the session resumes and messages queued meanwhile arrive once, in order', async () => {
    fx = await startFixture();
    fx.wh.channel('stream');
    const upstream: number[] = [];
    fx.wh.onMessage('n', (d) => void upstream.push(d as number));
    const { url, proxy } = await fx.proxied();
    const client = fx.client({ url, transports: ['websocket', 'sse'], reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 } });
    const downstream: number[] = [];
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    client.channel('stream').on('e', (d) => downstream.push(d as number));
    await client.connect();
    await client.channel('stream').subscribe();
    const session = client.sessionId;

    proxy.set({ refuse: true });
    proxy.cutAll();
    await waitFor(() => client.state === 'reconnecting');
    const downAt = performance.now();
    // The subscribe may still await its ack (the server acks after ackDelayMs): count from here.
    const queuedBefore = client.stats.queued;
    const acked: Array<Promise<void>> = [];
    for (let i = 0; i < 100; i++) {
      acked.push(client.send('n', i));
      fx.wh.publish('stream', 'e', i);
    }
    expect(client.stats.queued).toBe(queuedBefore + 100);
    await new Promise((r) => setTimeout(r, 10_000 - (performance.now() - downAt)));
    expect(upstream).toEqual([]);
    proxy.set({ refuse: false });

    await Promise.all(acked);
    await waitFor(() => downstream.length >= 100, { what: 'the events published during the outage' });
    expect(client.sessionId).toBe(session);
    expect(gaps).toEqual([]);
    expect(upstream).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(downstream).toEqual(Array.from({ length: 100 }, (_, i) => i));
  }, 40_000);
});
