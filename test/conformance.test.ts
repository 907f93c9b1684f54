/**
 * One conformance suite, run against each transport: the application must see the same behaviour
 * whichever transport carries the session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WirehopError } from '@wirehop/protocol';
import type { Member } from '@wirehop/protocol';
import type { ServerOptions } from '@wirehop/server';
import { startFixture, TRANSPORTS, type Fixture } from './helpers/fixture.js';
import { nextEvent, waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** Authenticates `{ user, name }` payloads; anything else is refused. */
const authenticate = ({ auth }: { auth: unknown }) => {
  const a = auth as { user?: string; name?: string } | undefined;
  if (!a?.user) throw new WirehopError('unauthorized', 'who are you?');
  return { id: a.user, info: { name: a.name ?? a.user } };
};

describe.each(TRANSPORTS)('conformance over %s', (transport) => {
  const connectAs = async (user: string, extra: Record<string, unknown> = {}) => {
    const c = fx!.client({ transports: [transport], auth: { user }, ...extra });
    await c.connect();
    return c;
  };

  it('connects and reports its state, transport and session', async () => {
    fx = await startFixture({ authenticate });
    const c = fx.client({ transports: [transport], auth: { user: 'ada' }, autoConnect: false });
    const states: string[] = [];
    c.on('state', (e) => states.push(e.to));
    expect(c.state).toBe('idle');
    await c.connect();
    expect(c.state).toBe('connected');
    expect(c.transport).toBe(transport);
    expect(c.sessionId).toMatch(/^[\w-]{21,}$/);
    expect(states).toEqual(['connecting', 'connected']);
    expect(fx.wh.session(c.sessionId!)?.user.id).toBe('ada');
    expect(fx.wh.session(c.sessionId!)?.transport).toBe(transport);
  });

  it('delivers server publications to subscribers, in order', async () => {
    fx = await startFixture({ authenticate });
    fx.wh.channel('news');
    const c = await connectAs('ada');
    const got: unknown[] = [];
    const news = c.channel('news');
    news.on('item', (d) => got.push(d));
    await news.subscribe();
    expect(news.subscribed).toBe(true);
    for (let i = 0; i < 100; i++) void fx.wh.publish('news', 'item', { i });
    void fx.wh.publish('other', 'item', { nope: true });
    await waitFor(() => got.length === 100, { what: '100 events' });
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
  });

  it('applies an unsubscribe right after a subscribe after it, whether the authorizer answers now or later', async () => {
    // A synchronous authorizer once let the unsubscribe overtake the subscribe: the session stayed
    // subscribed to a channel its client had left, and the answers came out of order.
    for (const authorize of [() => true, async () => true]) {
      fx = await startFixture({ authenticate });
      fx.wh.channel('room:*', { authorize });
      const c = await connectAs('ada');
      const answers: string[] = [];
      const room = c.channel('room:a');
      await Promise.all([room.subscribe().then(() => answers.push('subscribed')), room.unsubscribe().then(() => answers.push('unsubscribed'))]);
      expect(answers).toEqual(['subscribed', 'unsubscribed']);
      expect([...fx.wh.session(c.sessionId!)!.channels]).toEqual([]);
      await fx.close();
      fx = undefined;
    }
  });

  it('lets clients publish only where the channel allows it, through the publish hook', async () => {
    fx = await startFixture({ authenticate });
    fx.wh.channel('room:*', { publish: (s, _ch, _ev, data) => ({ data: { from: s.user.id, ...(data as object) } }) });
    fx.wh.channel('readonly:*');
    const a = await connectAs('ada');
    const b = await connectAs('bob');
    const seen: unknown[] = [];
    b.channel('room:1').on('say', (d) => seen.push(d));
    await b.channel('room:1').subscribe();
    await a.channel('room:1').publish('say', { text: 'hi' });
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([{ from: 'ada', text: 'hi' }]);
    await expect(a.channel('readonly:1').publish('say', { text: 'x' })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('refuses subscriptions the authorizer refuses, and channels nobody declared', async () => {
    fx = await startFixture({ authenticate });
    fx.wh.channel('private:*', { authorize: (s, ch) => ch === `private:${s.user.id}` });
    const c = await connectAs('ada');
    await expect(c.channel('private:ada').subscribe()).resolves.toBeDefined();
    await expect(c.channel('private:bob').subscribe()).rejects.toMatchObject({ code: 'forbidden' });
    await expect(c.channel('undeclared').subscribe()).rejects.toMatchObject({ code: 'forbidden' });
    // the session is unharmed
    expect(c.state).toBe('connected');
  });

  it('stops delivering after unsubscribe', async () => {
    fx = await startFixture({ authenticate });
    fx.wh.channel('news');
    const c = await connectAs('ada');
    const got: unknown[] = [];
    c.channel('news').on('item', (d) => got.push(d));
    await c.channel('news').subscribe();
    fx.wh.publish('news', 'item', 1);
    await waitFor(() => got.length === 1);
    await c.channel('news').unsubscribe();
    expect(c.channel('news').subscribed).toBe(false);
    await fx.wh.publish('news', 'item', 2);
    // a message sent after the publish arrives after it would have: proves nothing was in flight
    const notice = nextEvent<[string, unknown]>((l) => c.on('message', l));
    fx.wh.session(c.sessionId!)!.send('ping', null);
    await notice;
    expect(got).toEqual([1]);
  });

  it('answers requests with the handler result, its error, or a timeout', async () => {
    fx = await startFixture({ authenticate });
    let slowCalls = 0;
    fx.wh
      .onRequest('add', (data) => (data as number[]).reduce((a, b) => a + b, 0))
      .onRequest('whoami', async (_d, s) => s.user.id)
      .onRequest('refuse', () => {
        throw new WirehopError('forbidden', 'not for you');
      })
      .onRequest('crash', () => {
        throw new Error('secret internal detail');
      })
      .onRequest('slow', () => {
        slowCalls++;
        return new Promise(() => {});
      });
    const c = await connectAs('ada');
    await expect(c.request('add', [1, 2, 3])).resolves.toBe(6);
    await expect(c.request('whoami')).resolves.toBe('ada');
    await expect(c.request('refuse')).rejects.toMatchObject({ code: 'forbidden', message: 'not for you' });
    const crash = await c.request('crash').catch((e: WirehopError) => e);
    expect(crash).toBeInstanceOf(WirehopError);
    expect((crash as WirehopError).code).toBe('handler_error');
    expect((crash as WirehopError).message).not.toContain('secret internal detail');
    await expect(c.request('nope')).rejects.toMatchObject({ code: 'no_handler' });
    await expect(c.request('slow', null, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'timeout' });
    expect(slowCalls).toBe(1);
    // one failing request harms nothing else
    await expect(c.request('add', [40, 2])).resolves.toBe(42);
  });

  it("settles a message once a later request's reply says it was processed", async () => {
    // No ACK from the server's own timer or count here: what settles the message is the reply.
    fx = await startFixture({ authenticate, ackDelayMs: 60_000, ackEvery: 1_000 });
    const got: unknown[] = [];
    fx.wh.onMessage('note', (data) => void got.push(data));
    fx.wh.onRequest('count', () => got.length);
    const c = await connectAs('ada');
    let settled = false;
    const sent = c.send('note', 'hi').then(() => void (settled = true));
    await expect(c.request('count')).resolves.toBe(1);
    expect(settled).toBe(true);
    await sent;
  });

  it('delivers client messages to handlers in order, and server messages to the client', async () => {
    fx = await startFixture({ authenticate });
    const got: unknown[] = [];
    fx.wh.onMessage('note', (data, s) => {
      got.push(data);
      if (got.length === 50) s.send('done', { count: got.length });
    });
    const c = await connectAs('ada');
    const done = nextEvent<[string, unknown]>((l) => c.on('message', l));
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.send('note', i)));
    expect(await done).toEqual(['done', { count: 50 }]);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('tracks presence per user, not per tab', async () => {
    fx = await startFixture({ authenticate });
    fx.wh.channel('room:*', { presence: true });
    const ada = await connectAs('ada');
    const joins: Member[] = [];
    const leaves: Member[] = [];
    const room = ada.channel('room:1');
    room.onPresence('join', (m) => joins.push(m));
    room.onPresence('leave', (m) => leaves.push(m));
    await expect(room.subscribe()).resolves.toEqual({ presence: true });

    const bobTab1 = await connectAs('bob');
    const bobTab2 = await connectAs('bob');
    await bobTab1.channel('room:1').subscribe();
    await bobTab2.channel('room:1').subscribe();
    await waitFor(() => joins.some((m) => m.id === 'bob'));
    const members = await room.presence();
    expect(members.map((m) => m.id).sort()).toEqual(['ada', 'bob']);
    expect((await fx.wh.presence('room:1')).map((m) => m.id).sort()).toEqual(['ada', 'bob']);

    await bobTab1.channel('room:1').unsubscribe();
    // bob still has a tab in the room: no leave yet. Prove it by a later event arriving first.
    const marker = nextEvent<[string, unknown]>((l) => ada.on('message', l));
    fx.wh.session(ada.sessionId!)!.send('marker', null);
    await marker;
    expect(leaves).toEqual([]);

    bobTab2.close();
    await waitFor(() => leaves.length === 1, { what: 'bob to leave after his last tab closed' });
    expect(leaves[0]).toMatchObject({ id: 'bob', info: { name: 'bob' } });
    expect(joins.filter((m) => m.id === 'bob')).toHaveLength(1);
  });

  it('queues messages while not connected and flushes them in order', async () => {
    fx = await startFixture({ authenticate });
    const got: unknown[] = [];
    fx.wh.onMessage('n', (d) => void got.push(d));
    const c = fx.client({ transports: [transport], auth: { user: 'ada' }, autoConnect: false });
    const sent = Array.from({ length: 20 }, (_, i) => c.send('n', i));
    expect(c.stats.queued).toBe(20);
    await c.connect();
    await Promise.all(sent);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(c.stats.queued).toBe(0);
  });

  it('rejects a message over the outbox limit at once and keeps the rest', async () => {
    fx = await startFixture({ authenticate });
    const got: unknown[] = [];
    fx.wh.onMessage('n', (d) => void got.push(d));
    const c = fx.client({ transports: [transport], auth: { user: 'ada' }, autoConnect: false, maxQueue: 5 });
    const ok = Array.from({ length: 5 }, (_, i) => c.send('n', i));
    await expect(c.send('n', 'overflow')).rejects.toMatchObject({ code: 'queue_full' });
    await c.connect();
    await Promise.all(ok);
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses an oversize message before sending it', async () => {
    fx = await startFixture({ authenticate, limits: { maxMessageBytes: 1024 } });
    const got: unknown[] = [];
    fx.wh.onMessage('n', (d) => void got.push(d));
    const c = await connectAs('ada');
    await expect(c.send('n', 'x'.repeat(2000))).rejects.toMatchObject({ code: 'message_too_large' });
    await c.send('n', 'small');
    expect(got).toEqual(['small']);
    expect(c.stats.reconnects).toBe(0);
  });

  it('reports rejected authentication', async () => {
    fx = await startFixture({ authenticate });
    const c = fx.client({ transports: [transport], auth: { nobody: true } });
    const [err] = await nextEvent<[WirehopError]>((l) => c.on('error', l));
    expect(err.code).toBe('unauthorized');
    expect(fx.wh.sessionCount).toBe(0);
  });

  it('ends a session the server closes with an explicit gap, and starts a new one', async () => {
    fx = await startFixture({ authenticate });
    fx.wh.channel('news');
    const c = await connectAs('ada');
    const got: unknown[] = [];
    c.channel('news').on('item', (d) => got.push(d));
    await c.channel('news').subscribe();
    const first = c.sessionId!;
    const gap = nextEvent<[{ code: string }]>((l) => c.on('gap', l));
    fx.wh.session(first)!.close('kicked');
    expect((await gap)[0].code).toBe('session_closed');
    await waitFor(() => c.state === 'connected' && c.sessionId !== first && fx!.wh.session(c.sessionId!)?.channels.has('news'), {
      what: 'a new session, resubscribed',
    });
    fx.wh.publish('news', 'item', 'after');
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['after']);
  });

  it('recovers the publications a lost session missed from the channel history: none lost, none twice', async () => {
    fx = await startFixture({ authenticate, sessionTtlMs: 300 });
    fx.wh.channel('news');
    const { url, proxy } = await fx.proxied();
    const c = fx.client({ url, transports: [transport], auth: { user: 'ada' }, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const got: number[] = [];
    const gaps: unknown[] = [];
    const news = c.channel('news');
    news.on('item', (d) => got.push(d as number));
    news.onGap((g) => gaps.push(g));
    await news.subscribe();
    for (let i = 1; i <= 5; i++) await fx.wh.publish('news', 'item', i);
    await waitFor(() => got.length === 5);
    const first = c.sessionId!;
    proxy.set({ refuse: true });
    proxy.cutAll();
    await waitFor(() => !fx!.wh.session(first), { what: 'the session to expire' });
    for (let i = 6; i <= 20; i++) await fx.wh.publish('news', 'item', i); // nobody holds a session for these
    const lost = nextEvent<[{ code: string }]>((l) => c.on('gap', l));
    proxy.set({ refuse: false });
    expect((await lost)[0].code).toBe('session_expired');
    await waitFor(() => got.length === 20, { what: 'the missed publications, from history' });
    await fx.wh.publish('news', 'item', 21);
    await waitFor(() => got.length === 21);
    expect(got).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(gaps).toEqual([]);
    expect(news.position?.offset).toBe(21);
  });

  it('recovers what half the replay buffer holds, then a GAP: a backlog never ends session after session', async () => {
    // Away while 500 were published into a replay buffer of 100 frames: the session overflows (once,
    // and says so). The new session recovers 50 from history, then a GAP to the newest. Before, the
    // recovery itself overflowed each new session: on SSE, session after session, none delivered.
    fx = await startFixture({ authenticate, limits: { replayBufferFrames: 100 } });
    fx.wh.channel('news');
    const { url, proxy } = await fx.proxied();
    const c = fx.client({ url, transports: [transport], auth: { user: 'ada' }, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const got: number[] = [];
    const lost: string[] = [];
    const gaps: Array<{ code: string; position: { offset: number } }> = [];
    const news = c.channel('news');
    news.on('item', (d) => got.push(d as number));
    news.onGap((g) => gaps.push(g));
    c.on('gap', (g) => lost.push(g.code));
    await news.subscribe();
    for (let i = 1; i <= 10; i++) await fx.wh.publish('news', 'item', i);
    await waitFor(() => got.length === 10);
    proxy.set({ refuse: true });
    proxy.cutAll();
    for (let i = 11; i <= 510; i++) await fx.wh.publish('news', 'item', i);
    proxy.set({ refuse: false });
    await waitFor(() => gaps.length > 0, { what: 'the GAP after the recovered publications' });
    await fx.wh.publish('news', 'item', 511);
    await waitFor(() => got.at(-1) === 511, { what: 'live delivery after the GAP' });
    expect(lost).toEqual(['replay_overflow']);
    expect(gaps).toMatchObject([{ code: 'history_unavailable', position: { offset: 510 } }]);
    expect(got).toEqual([...Array.from({ length: 60 }, (_, i) => i + 1), 511]);
  });

  it('says so on the channel when history no longer holds what a lost session missed', async () => {
    fx = await startFixture({ authenticate, sessionTtlMs: 300 });
    fx.wh.channel('news', { history: { size: 3 } });
    const { url, proxy } = await fx.proxied();
    const c = fx.client({ url, transports: [transport], auth: { user: 'ada' }, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const got: number[] = [];
    const news = c.channel('news');
    news.on('item', (d) => got.push(d as number));
    const gap = nextEvent<[{ code: string; position: { offset: number } }]>((l) => news.onGap(l));
    await news.subscribe();
    await fx.wh.publish('news', 'item', 1);
    await waitFor(() => got.length === 1);
    const first = c.sessionId!;
    proxy.set({ refuse: true });
    proxy.cutAll();
    await waitFor(() => !fx!.wh.session(first), { what: 'the session to expire' });
    for (let i = 2; i <= 10; i++) await fx.wh.publish('news', 'item', i); // history keeps 8, 9, 10
    proxy.set({ refuse: false });
    const [info] = await gap;
    expect(info.code).toBe('history_unavailable');
    expect(info.position.offset).toBe(7);
    await waitFor(() => got.length === 4);
    expect(got).toEqual([1, 8, 9, 10]);
  });

  it('reads the channel history for a late joiner', async () => {
    fx = await startFixture({ authenticate });
    fx.wh.channel('news');
    for (let i = 1; i <= 30; i++) await fx.wh.publish('news', 'item', i);
    const c = await connectAs('ada');
    const news = c.channel('news');
    await news.subscribe();
    const page = await news.history({ limit: 10 });
    expect(page.publications.map((p) => p.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(page).toMatchObject({ complete: true, more: true, position: { offset: 30 } });
    const next = await news.history({ since: { epoch: page.position.epoch, offset: 25 } });
    expect(next.publications.map((p) => [p.offset, p.event, p.data])).toEqual([26, 27, 28, 29, 30].map((n) => [n, 'item', n]));
    expect(next.more).toBe(false);
    await expect(c.channel('other').history()).rejects.toMatchObject({ code: 'not_subscribed' });
  });

  it('cuts a history page at what fits in one frame, counting bytes as they are', async () => {
    fx = await startFixture({ authenticate, limits: { maxMessageBytes: 4096 } });
    fx.wh.channel('news');
    const text = 'x'.repeat(300); // ASCII: 300 bytes, not 900
    for (let i = 1; i <= 20; i++) await fx.wh.publish('news', 'item', text);
    const c = await connectAs('ada');
    const news = c.channel('news');
    await news.subscribe();
    const page = await news.history({ limit: 20 });
    // About 340 bytes a publication in a 4 KiB frame: 11 fit (a third of that with 3 bytes a character).
    expect(page.publications.map((p) => p.offset)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(page.more).toBe(true);
  });

  /** A client of `transport` subscribed to 'news', through a proxy in front of a server started with `options`. */
  async function subscribedThroughProxy(options: ServerOptions = {}) {
    fx = await startFixture({ authenticate, ...options });
    fx.wh.channel('news');
    const port = Number(new URL(fx.url).port);
    const { url, proxy } = await fx.proxied();
    const c = fx.client({ url, transports: [transport], auth: { user: 'ada' }, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    await c.connect();
    await c.channel('news').subscribe();
    return { c, proxy, port };
  }

  it('signals an expired session explicitly, resubscribes, and resends what was never processed', async () => {
    const { c, proxy } = await subscribedThroughProxy({ sessionTtlMs: 300 });
    const processed: unknown[] = [];
    fx!.wh.onMessage('n', (d) => void processed.push(d));
    const first = c.sessionId!;

    proxy.set({ refuse: true });
    proxy.cutAll();
    await waitFor(() => c.state !== 'connected');
    const queued = c.send('n', 'sent while away');
    await waitFor(() => !fx!.wh.session(first), { what: 'the session to expire' });
    const gap = nextEvent<[{ code: string; resent: number; lost: number }]>((l) => c.on('gap', l));
    proxy.set({ refuse: false });
    const [info] = await gap;
    expect(info.code).toBe('session_expired');
    expect(info.lost).toBe(0);
    await queued;
    expect(processed).toEqual(['sent while away']);
    await waitFor(() => c.state === 'connected' && fx!.wh.session(c.sessionId!)?.channels.has('news'));
    expect(c.sessionId).not.toBe(first);
  });
  it('after a server restart, reports session_unknown and never guesses what was processed', async () => {
    const { c, proxy, port } = await subscribedThroughProxy();
    const first = c.sessionId!;

    // The link dies, the client queues a message into it, and the server restarts meanwhile.
    proxy.set({ blackhole: true });
    const pending = c.send('n', 'maybe processed, maybe not');
    await fx!.stopServer();
    proxy.cutAll();
    const { createWirehop } = await import('@wirehop/server');
    const restarted = createWirehop({ authenticate, onError: () => {} }).channel('news');
    const listening = await restarted.listen({ port, hostname: '127.0.0.1' });
    try {
      const gap = nextEvent<[{ code: string; resent: number; lost: number }]>((l) => c.on('gap', l));
      proxy.heal();
      const [info] = await gap;
      expect(info.code).toBe('session_unknown');
      // The new server cannot say whether the message was processed, so it is not resent blindly.
      expect(info).toMatchObject({ resent: 0, lost: 1 });
      await expect(pending).rejects.toMatchObject({ code: 'session_lost' });
      await waitFor(() => c.state === 'connected' && restarted.session(c.sessionId!)?.channels.has('news'), { what: 'a new session on the restarted server' });
      expect(c.sessionId).not.toBe(first);
    } finally {
      c.close();
      await restarted.close();
      await listening.close();
    }
  });

  it('after a server restart, sends in the new session what was queued while no transport carried it', async () => {
    const { c, proxy, port } = await subscribedThroughProxy();

    // The client knows the link is down when the message is queued: it never leaves the client.
    proxy.set({ refuse: true });
    proxy.cutAll();
    await waitFor(() => c.state !== 'connected');
    const queued = c.send('n', 'queued while away');
    await fx!.stopServer();
    const processed: unknown[] = [];
    const { createWirehop } = await import('@wirehop/server');
    const restarted = createWirehop({ authenticate, onError: () => {} })
      .channel('news')
      .onMessage('n', (d) => void processed.push(d));
    const listening = await restarted.listen({ port, hostname: '127.0.0.1' });
    try {
      const gap = nextEvent<[{ code: string; resent: number; lost: number }]>((l) => c.on('gap', l));
      proxy.set({ refuse: false });
      const [info] = await gap;
      expect(info).toMatchObject({ code: 'session_unknown', resent: 1, lost: 0 });
      await queued;
      expect(processed).toEqual(['queued while away']);
    } finally {
      c.close();
      await restarted.close();
      await listening.close();
    }
  });
});
