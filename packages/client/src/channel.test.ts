import { FrameCode, WirehopError } from '@wirehop/protocol';
import { describe, expect, it } from 'vitest';
import { createChannel, type ChannelHost } from './channel.js';
import { promiseReply, type Reply } from './requests.js';

/** A host that records queued frames instead of sending them; the test plays the server. */
function host() {
  const queued: Array<{ code: FrameCode; fields: unknown[]; reply: Reply; ch?: string }> = [];
  const reported: Array<[unknown, string]> = [];
  const h: ChannelHost & { queued: typeof queued; reported: typeof reported } = {
    queued,
    reported,
    requestTimeoutMs: 0,
    enqueue: (code, fields, reply, ch) => void queued.push({ code, fields, reply, ch }),
    call<T>(code: FrameCode, fields: unknown[]) {
      const [reply, promise] = promiseReply<T>();
      queued.push({ code, fields, reply });
      return promise;
    },
    report: (error, where) => void reported.push([error, where]),
  };
  return h;
}

describe('channel subscription', () => {
  it('subscribes once, however often subscribe() is called, and confirms on the reply', async () => {
    const h = host();
    const c = createChannel('news', h);
    const first = c.subscribe();
    expect(c.subscribe()).toBe(first);
    expect(h.queued).toHaveLength(1);
    expect(h.queued[0]).toMatchObject({ code: FrameCode.subscribe, fields: ['news'], ch: 'news' });
    expect(c.subscribed).toBe(false);
    expect(c.want).toBe(true);
    h.queued[0]!.reply.ok({ presence: true });
    expect(c.subscribed).toBe(true);
    await expect(first).resolves.toEqual({ presence: true });
    await expect(c.subscribe()).resolves.toEqual({ presence: true });
  });

  it('forgets the wish when the server refuses, so a later subscribe() tries again', async () => {
    const h = host();
    const c = createChannel('private', h);
    const p = c.subscribe();
    h.queued[0]!.reply.fail(new WirehopError('forbidden', 'no'));
    await expect(p).rejects.toMatchObject({ code: 'forbidden' });
    expect(c.want).toBe(false);
    void c.subscribe();
    expect(h.queued).toHaveLength(2);
  });

  it('unsubscribes only when subscribed or subscribing', async () => {
    const h = host();
    const c = createChannel('news', h);
    await c.unsubscribe();
    expect(h.queued).toHaveLength(0);
    void c.subscribe();
    h.queued[0]!.reply.ok({ presence: false });
    const off = c.unsubscribe();
    expect(c.unsubscribe()).toBe(off);
    expect(h.queued[1]).toMatchObject({ code: FrameCode.unsubscribe, fields: ['news'], ch: 'news' });
    expect(c.subscribed).toBe(true);
    h.queued[1]!.reply.ok(null);
    await off;
    expect(c.subscribed).toBe(false);
  });

  it('keeps the latest wish when an older subscribe is refused', () => {
    const h = host();
    const c = createChannel('news', h);
    void c.subscribe().catch(() => {});
    void c.unsubscribe();
    void c.subscribe();
    h.queued[0]!.reply.fail(new WirehopError('forbidden'));
    expect(c.want).toBe(true);
  });

  it('builds re-subscriptions that settle carried promises, and reports refusals nobody awaits', async () => {
    const h = host();
    const c = createChannel('news', h);
    const p = c.subscribe();
    const carried = h.queued[0]!.reply;
    c.reset();
    const again = c.resubscribe([carried]);
    expect(again).toMatchObject({ code: FrameCode.subscribe, tail: '"news"]', ch: 'news' });
    again.reply.ok({ presence: false });
    await expect(p).resolves.toEqual({ presence: false });
    expect(c.subscribed).toBe(true);
    c.reset();
    expect(c.subscribed).toBe(false);
    c.resubscribe([]).reply.fail(new WirehopError('forbidden', 'gone'));
    expect(h.reported).toHaveLength(1);
    expect(c.want).toBe(false);
  });
});

describe('channel events', () => {
  it('calls named handlers with the data and wildcard handlers with the event too', () => {
    const c = createChannel('news', host());
    const named: unknown[] = [];
    const all: unknown[] = [];
    c.on('item', (d) => named.push(d));
    c.on('*', (e, d) => all.push([e, d]));
    c.dispatch('item', 1, 1);
    c.dispatch('other', 2, 1);
    expect(named).toEqual([1]);
    expect(all).toEqual([['item', 1], ['other', 2]]);
  });

  it('keeps presence apart from events, even events named join', () => {
    const c = createChannel('room', host());
    const joins: unknown[] = [];
    const events: unknown[] = [];
    c.onPresence('join', (m) => joins.push(m));
    c.on('join', (d) => events.push(d));
    c.presenceEvent('join', { id: 'ada' });
    c.dispatch('join', 'event data', 1);
    expect(joins).toEqual([{ id: 'ada' }]);
    expect(events).toEqual(['event data']);
  });

  it('reports a throwing handler and keeps going', () => {
    const h = host();
    const c = createChannel('news', h);
    const got: unknown[] = [];
    c.on('item', () => {
      throw new Error('bug');
    });
    c.on('item', (d) => got.push(d));
    c.dispatch('item', 1, 1);
    expect(got).toEqual([1]);
    expect(h.reported[0]?.[1]).toContain('news');
  });
});

describe('channel calls', () => {
  it('publishes and resolves on the reply', async () => {
    const h = host();
    const c = createChannel('room', h);
    const p = c.publish('say', { text: 'hi' });
    expect(h.queued[0]).toMatchObject({ code: FrameCode.publish, fields: ['room', 'say', { text: 'hi' }] });
    h.queued[0]!.reply.ok(null);
    await expect(p).resolves.toBeUndefined();
  });

  it('refuses an invalid event name before queueing', async () => {
    const h = host();
    await expect(createChannel('room', h).publish('', 1)).rejects.toMatchObject({ code: 'bad_frame' });
    expect(h.queued).toHaveLength(0);
  });

  it('asks for presence', async () => {
    const h = host();
    const p = createChannel('room', h).presence();
    expect(h.queued[0]).toMatchObject({ code: FrameCode.presence, fields: ['room'] });
    h.queued[0]!.reply.ok([{ id: 'ada' }]);
    await expect(p).resolves.toEqual([{ id: 'ada' }]);
  });
});
