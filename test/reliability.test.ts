/**
 * The promise: within a session, every event and every message arrives exactly once and in order,
 * across any number of reconnects. Connections are cut at the TCP level, mid-stream, 20 times per
 * transport, while both directions are busy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, TRANSPORTS, type Fixture } from './helpers/fixture.js';
import { audit, exactly } from './helpers/streams.js';
import { waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const EVENTS = 5_000;
const MESSAGES = 1_000;
const CUTS = 20;

describe.each(TRANSPORTS)('exactly once, in order, across forced disconnects over %s', (transport) => {
  it(`${EVENTS} events down and ${MESSAGES} messages up survive ${CUTS} cuts`, async () => {
    fx = await startFixture({ sessionTtlMs: 30_000 });
    fx.wh.channel('stream');
    const upstream: number[] = [];
    fx.wh.onMessage('n', (d) => void upstream.push(d as number));

    const { url, proxy } = await fx.proxied();
    const client = fx.client({ url, transports: [transport], reconnect: { initialDelayMs: 5, maxDelayMs: 50 } });
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    const downstream: number[] = [];
    client.channel('stream').on('e', (d) => downstream.push(d as number));
    await client.connect();
    await client.channel('stream').subscribe();
    const session = client.sessionId;

    const perRoundEvents = EVENTS / CUTS;
    const perRoundMessages = MESSAGES / CUTS;
    const acked: Array<Promise<void>> = [];
    let cuts = 0;
    for (let round = 0; round < CUTS; round++) {
      const before = downstream.length;
      for (let i = 0; i < perRoundEvents; i++) fx.wh.publish('stream', 'e', round * perRoundEvents + i);
      for (let i = 0; i < perRoundMessages; i++) acked.push(client.send('n', round * perRoundMessages + i));
      // Cut as soon as this round starts arriving: the cut lands mid-stream, with frames in flight
      // in both directions.
      await waitFor(() => downstream.length > before, { what: `round ${round} to start arriving` });
      if (proxy.cutAll() > 0) cuts++;
    }
    await Promise.all(acked);
    await waitFor(() => downstream.length >= EVENTS, { what: 'every event' });

    expect(cuts).toBe(CUTS);
    // Every cut landed on a live transport (each round's events had started arriving); the last
    // one may still be reconnecting when the data is all in.
    await waitFor(() => client.stats.reconnects >= CUTS, { what: 'the reconnect after the last cut' });
    expect(gaps).toEqual([]);
    expect(client.sessionId).toBe(session);
    expect(audit(downstream, EVENTS)).toEqual(exactly(EVENTS));
    expect(audit(upstream, MESSAGES)).toEqual(exactly(MESSAGES));
  }, 120_000);
});

describe('chat among three clients on mixed transports', () => {
  it('two on WebSocket and one on SSE all see every message once, in each sender’s order', async () => {
    fx = await startFixture({
      authenticate: ({ auth }) => ({ id: (auth as { nick: string }).nick, info: { nick: (auth as { nick: string }).nick } }),
    });
    fx.wh.channel('room:*', { presence: true, publish: (s, _c, _e, data) => ({ data: { from: s.user.id, text: (data as { text: string }).text } }) });
    const people = [
      { nick: 'ada', transport: 'websocket' as const },
      { nick: 'bob', transport: 'websocket' as const },
      { nick: 'cyd', transport: 'sse' as const },
    ];
    const clients = people.map((p) => fx!.client({ transports: [p.transport], auth: { nick: p.nick } }));
    const inbox = people.map(() => [] as Array<{ from: string; text: string }>);
    await Promise.all(
      clients.map(async (c, i) => {
        c.channel('room:lobby').on('message', (m) => inbox[i]!.push(m as { from: string; text: string }));
        await c.connect();
        await c.channel('room:lobby').subscribe();
      }),
    );
    expect(clients.map((c) => c.transport)).toEqual(['websocket', 'websocket', 'sse']);
    expect((await clients[2]!.channel('room:lobby').presence()).map((m) => m.id).sort()).toEqual(['ada', 'bob', 'cyd']);

    const PER = 100;
    await Promise.all(
      clients.flatMap((c, i) => Array.from({ length: PER }, (_, k) => c.channel('room:lobby').publish('message', { text: `${people[i]!.nick}-${k}` }))),
    );
    await waitFor(() => inbox.every((box) => box.length === PER * people.length), { what: 'every message in every inbox' });
    for (const box of inbox) {
      for (const p of people) {
        const fromP = box.filter((m) => m.from === p.nick).map((m) => m.text);
        expect(fromP).toEqual(Array.from({ length: PER }, (_, k) => `${p.nick}-${k}`));
      }
    }
    // Everyone saw the same total order: one channel, one fan-out order.
    expect(inbox[1]).toEqual(inbox[0]);
    expect(inbox[2]).toEqual(inbox[0]);
  }, 60_000);
});

describe.each(TRANSPORTS)('a reader that keeps up is never cut off by its replay buffer, over %s', (transport) => {
  /**
   * `count` events of `size` characters, each published once the one before arrived. The client's
   * ack timer is put out of reach, so only the bound on the server's replay buffer makes it ack:
   * 32 frames (256 on SSE) would outgrow it.
   */
  async function stream(count: number, size: number, limits?: { replayBufferBytes: number }) {
    fx = await startFixture(limits && { limits });
    fx.wh.channel('files');
    const client = fx.client({ transports: [transport], adaptive: false, ackDelayMs: 60_000 });
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    client.channel('files').onGap((g) => gaps.push(g));
    const chunk = 'x'.repeat(size);
    const got: number[] = [];
    client.channel('files').on('chunk', (d) => {
      got.push(Number((d as string).slice(size)));
      if (got.length < count) fx!.wh.publish('files', 'chunk', chunk + got.length);
    });
    await client.connect();
    await client.channel('files').subscribe();
    const session = client.sessionId;
    fx.wh.publish('files', 'chunk', chunk + 0);
    await waitFor(() => got.length >= count || gaps.length > 0, { what: 'every chunk' });
    expect(gaps).toEqual([]);
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(client.sessionId).toBe(session);
  }

  it('100 events of 60,000 characters: the default 1 MiB buffer holds 17', () => stream(100, 60_000), 60_000);

  it("the server's own buffer, from WELCOME: 100 events of 20,000 characters into 200,000", () =>
    stream(100, 20_000, { replayBufferBytes: 200_000 }), 60_000);
});
