import { FrameCode, decodeServerFrame, encodeWithTail, type ServerFrame } from '@wirehop/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { HistoryLimits } from './broker.js';
import { Hub, type Subscriber } from './hub.js';
import { MemoryBroker } from './memory-broker.js';
import { resolveOptions } from './options.js';

/** A subscriber that numbers frames like a session and keeps them decoded. */
function subscriber(id: string, user = id, accept = true): Subscriber & { frames: ServerFrame[]; tails: string[] } {
  let seq = 0;
  const frames: ServerFrame[] = [];
  const tails: string[] = [];
  return {
    id,
    user: { id: user, info: { name: user.toUpperCase() } },
    channels: new Set(),
    frames,
    tails,
    pushTail(code: FrameCode, tail: string) {
      if (!accept) return false;
      tails.push(tail);
      const decoded = decodeServerFrame(encodeWithTail(code, ++seq, tail));
      if (!decoded.ok) throw new Error(decoded.message);
      frames.push(decoded.frame);
      return true;
    },
  };
}

const limits = resolveOptions({ limits: { maxMessageBytes: 1024 } }).limits;

async function makeHub(history: HistoryLimits = { size: 100, ttlMs: 60_000 }) {
  const broker = new MemoryBroker();
  const errors: unknown[] = [];
  const hub = new Hub<ReturnType<typeof subscriber>>({ limits, broker, history: () => history, onError: (e) => errors.push(e) });
  await broker.start({ ...hostOf(hub), request: async () => null, error: (e) => errors.push(e) });
  return { hub, broker, errors };
}

function hostOf(hub: Hub<ReturnType<typeof subscriber>>) {
  return {
    publication: hub.publication.bind(hub),
    presence: hub.presence.bind(hub),
    reconnected: hub.reconnected.bind(hub),
  };
}

const events = (s: { frames: ServerFrame[] }) => s.frames.filter((f) => f.type === 'event').map((f) => (f as { data: unknown }).data);

describe('Hub', () => {
  it('fans a publication out to subscribers only, with its offset, encoding its tail once', async () => {
    const { hub } = await makeHub();
    const a = subscriber('a');
    const b = subscriber('b');
    const c = subscriber('c');
    await hub.subscribe(a, 'news');
    await hub.subscribe(b, 'news');
    await hub.subscribe(c, 'other');
    const pos = await hub.publish('news', 'item', { n: 1 });
    expect(pos.offset).toBe(1);
    expect(a.frames).toEqual([{ type: 'event', seq: 1, channel: 'news', event: 'item', data: { n: 1 }, offset: 1 }]);
    expect(b.frames).toEqual(a.frames);
    expect(c.frames).toEqual([]);
    expect(a.tails[0]).toBe(b.tails[0]); // the same string, not merely equal text
    expect((await hub.publish('news', 'item', 2)).offset).toBe(2);
  });

  it('refuses invalid names, non-JSON data and oversize frames at once', async () => {
    const { hub } = await makeHub();
    expect(() => hub.publish('', 'e', 1)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => hub.publish('news', 'bad\nname', 1)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => hub.publish('news', 'e', 10n)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => hub.publish('news', 'e', 'x'.repeat(2000))).toThrow(expect.objectContaining({ code: 'message_too_large' }));
  });

  it('recovers a subscription from history: what was missed, then live, without overlap', async () => {
    const { hub } = await makeHub();
    const first = subscriber('first');
    await hub.subscribe(first, 'news');
    for (let i = 1; i <= 3; i++) await hub.publish('news', 'e', i);
    const since = { epoch: (await hub.history('news', undefined, 1)).position.epoch, offset: 1 };
    for (let i = 4; i <= 5; i++) await hub.publish('news', 'e', i); // published while "away"
    const back = subscriber('back');
    const pos = await hub.subscribe(back, 'news', since);
    expect(pos.offset).toBe(5);
    await hub.publish('news', 'e', 6);
    expect(events(back)).toEqual([2, 3, 4, 5, 6]);
    expect(back.frames.filter((f) => f.type === 'event').map((f) => (f as { offset: number }).offset)).toEqual([2, 3, 4, 5, 6]);
  });

  it('sends a GAP where history no longer reaches back, then continues live', async () => {
    const { hub } = await makeHub({ size: 2, ttlMs: 60_000 });
    const epoch = (await hub.history('news', undefined, 1)).position.epoch;
    for (let i = 1; i <= 5; i++) await hub.publish('news', 'e', i); // history keeps 4 and 5
    const s = subscriber('s');
    await hub.subscribe(s, 'news', { epoch, offset: 1 });
    await hub.publish('news', 'e', 6);
    expect(s.frames[0]).toMatchObject({ type: 'gap', channel: 'news', code: 'history_unavailable', position: { epoch, offset: 3 } });
    expect(events(s)).toEqual([4, 5, 6]);
  });

  it('sends a GAP for a position of another epoch', async () => {
    const { hub } = await makeHub();
    await hub.publish('news', 'e', 1);
    const s = subscriber('s');
    await hub.subscribe(s, 'news', { epoch: 'gone', offset: 7 });
    expect(s.frames[0]).toMatchObject({ type: 'gap', code: 'history_unavailable' });
    expect(events(s)).toEqual([1]); // the whole held history of the new epoch follows
  });

  it('a channel the broker forgot (idle for channelTtlMs) answers a position of its old epoch with a GAP', async () => {
    let now = 0;
    const broker = new MemoryBroker({ channelTtlMs: 60_000, now: () => now });
    const hub = new Hub<ReturnType<typeof subscriber>>({ limits, broker, history: () => ({ size: 100, ttlMs: 1_000 }), onError: (e) => expect.fail(String(e)) });
    await broker.start({ ...hostOf(hub), request: async () => null, error: (e) => expect.fail(String(e)) });
    const a = subscriber('a');
    await hub.subscribe(a, 'news');
    await hub.publish('news', 'e', 1);
    await hub.publish('news', 'e', 2);
    const seen = hub.positionOf(a, 'news')!;
    hub.unsubscribe(a, 'news');
    await Promise.resolve(); // the hub lets go of the channel at the broker
    now += 60_000;
    broker.sweep();
    expect(broker.channelCount).toBe(0);
    await hub.publish('news', 'e', 3);
    const b = subscriber('b');
    const position = await hub.subscribe(b, 'news', seen);
    expect(position.epoch).not.toBe(seen.epoch);
    expect(b.frames[0]).toMatchObject({ type: 'gap', channel: 'news', code: 'history_unavailable' });
    expect(events(b)).toEqual([3]);
  });

  it('tracks presence per user through the broker: join on the first session, leave after the last', async () => {
    const { hub } = await makeHub();
    const watcher = subscriber('w', 'watcher');
    await hub.subscribe(watcher, 'room');
    await hub.join(watcher, 'room');
    const tab1 = subscriber('t1', 'bob');
    const tab2 = subscriber('t2', 'bob');
    await hub.subscribe(tab1, 'room');
    await hub.join(tab1, 'room');
    await hub.subscribe(tab2, 'room');
    await hub.join(tab2, 'room');
    expect((await hub.members('room')).map((m) => m.id).sort()).toEqual(['bob', 'watcher']);
    hub.unsubscribe(tab1, 'room');
    await hub.leave(tab1, 'room');
    expect((await hub.members('room')).map((m) => m.id).sort()).toEqual(['bob', 'watcher']);
    expect(hub.unsubscribeAll(tab2)).toEqual(['room']);
    await hub.leave(tab2, 'room');
    expect((await hub.members('room')).map((m) => m.id)).toEqual(['watcher']);
    expect(watcher.frames.map((f) => f.type)).toEqual(['join', 'join', 'leave']);
    expect(watcher.frames[2]).toMatchObject({ channel: 'room', member: { id: 'bob', info: { name: 'BOB' } } });
    expect(tab2.channels.size).toBe(0);
    expect(hub.subscriberCount('room')).toBe(1);
  });

  it('delivers publications handed over out of order or twice exactly once, in order', async () => {
    const { hub, broker } = await makeHub();
    const s = subscriber('s');
    const { epoch } = await hub.subscribe(s, 'news');
    // What a broker may do: a duplicate, then a later offset before an earlier one.
    const payload = (n: number) => JSON.stringify(['e', n]);
    hub.publication('news', epoch, 2, payload(2)); // ahead: held, and history is read for offset 1
    hub.publication('news', epoch, 1, payload(1));
    hub.publication('news', epoch, 1, payload(1));
    hub.publication('news', epoch, 3, payload(3));
    expect(events(s)).toEqual([1, 2, 3]);
    expect((await broker.history('news', undefined, 10)).publications).toEqual([]); // nothing was really published
  });

  it('gives up on a hole once limits.maxPendingPublications wait behind it: a GAP, then the held ones in order', async () => {
    const broker = new MemoryBroker();
    const errors: unknown[] = [];
    const small = resolveOptions({ limits: { maxPendingPublications: 3 } }).limits;
    const hub = new Hub<ReturnType<typeof subscriber>>({ limits: small, broker, history: () => ({ size: 100, ttlMs: 60_000 }), onError: (e) => errors.push(e) });
    await broker.start({ ...hostOf(hub), request: async () => null, error: (e) => errors.push(e) });
    const s = subscriber('s');
    const { epoch } = await hub.subscribe(s, 'news');
    const payload = (n: number) => JSON.stringify(['e', n]);
    // Offset 1 never comes: 2..4 are held (three, the limit) while history is read for it.
    for (const n of [2, 3, 4]) hub.publication('news', epoch, n, payload(n));
    expect(s.frames).toEqual([]);
    hub.publication('news', epoch, 5, payload(5)); // the fourth: the hole is given up
    expect(s.frames.map((f) => f.type)).toEqual(['gap', 'event', 'event', 'event', 'event']);
    expect(s.frames[0]).toMatchObject({ channel: 'news', code: 'history_unavailable', position: { epoch, offset: 1 } });
    expect(events(s)).toEqual([2, 3, 4, 5]);
    // The history read still under way finds nothing to add, and later ones follow in order.
    await new Promise((r) => setTimeout(r, 10));
    hub.publication('news', epoch, 6, payload(6));
    expect(events(s)).toEqual([2, 3, 4, 5, 6]);
    expect(errors).toEqual([]);
  });

  it("states a session's own position where it arrived ahead of this node's feed", async () => {
    // A broker whose deliveries to this node lag: history already holds what the feed has not seen.
    const broker = new MemoryBroker();
    const hub = new Hub<ReturnType<typeof subscriber>>({ limits, broker, history: () => ({ size: 100, ttlMs: 60_000 }), onError: () => undefined });
    const late: Array<() => void> = [];
    let lagging = false;
    const host = hostOf(hub);
    await broker.start({
      ...host,
      publication: (...args) => (lagging ? late.push(() => host.publication(...args)) : host.publication(...args)),
      request: async () => null,
      error: () => undefined,
    });
    const a = subscriber('a');
    const { epoch } = await hub.subscribe(a, 'news');
    lagging = true;
    await hub.publish('news', 'e', 1);
    await hub.publish('news', 'e', 2);
    // As a session moving in from a node that was further on: it had 1, history gives it 2.
    const b = subscriber('b');
    expect(await hub.subscribe(b, 'news', { epoch, offset: 1 })).toEqual({ epoch, offset: 2 });
    expect(hub.positionOf(a, 'news')).toEqual({ epoch, offset: 0 });
    expect(hub.positionOf(b, 'news')).toEqual({ epoch, offset: 2 }); // what a move away must resume from
    lagging = false;
    for (const deliver of late.splice(0)) deliver();
    expect(events(a)).toEqual([1, 2]);
    expect(events(b)).toEqual([2]); // once: the feed's late 1 and 2 are skipped for it
    expect(hub.positionOf(b, 'news')).toEqual({ epoch, offset: 2 });
  });

  it('stops reading history once the subscriber refuses more (a spent burst, a closing session)', async () => {
    const { hub, broker } = await makeHub({ size: 5000, ttlMs: 60_000 });
    const first = await hub.publish('news', 'e', 0);
    for (let i = 1; i < 2500; i++) await hub.publish('news', 'e', i);
    const reads = vi.spyOn(broker, 'history');
    let room = 3;
    const s = subscriber('s');
    const push = s.pushTail.bind(s);
    s.pushTail = (code, tail) => room-- > 0 && push(code, tail);
    await hub.subscribe(s, 'news', { epoch: first.epoch, offset: 0 });
    expect(events(s)).toEqual([0, 1, 2]);
    expect(reads).toHaveBeenCalledTimes(1); // one page of the three history holds
  });
});
