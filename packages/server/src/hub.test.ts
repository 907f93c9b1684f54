import { FrameCode, decodeServerFrame, encodeWithTail, type ServerFrame } from '@wirehop/protocol';
import { describe, expect, it } from 'vitest';
import { Hub, type Subscriber } from './hub.js';
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

describe('Hub', () => {
  it('fans a publication out to subscribers only, encoding its tail once', () => {
    const hub = new Hub(limits);
    const a = subscriber('a');
    const b = subscriber('b');
    const c = subscriber('c');
    hub.subscribe(a, 'news', false);
    hub.subscribe(b, 'news', false);
    hub.subscribe(c, 'other', false);
    expect(hub.publish('news', 'item', { n: 1 })).toBe(2);
    expect(a.frames).toEqual([{ type: 'event', seq: 1, channel: 'news', event: 'item', data: { n: 1 } }]);
    expect(b.frames).toEqual(a.frames);
    expect(c.frames).toEqual([]);
    expect(a.tails[0]).toBe(b.tails[0]); // the same string, not merely equal text
    expect(hub.publish('nobody', 'item', 1)).toBe(0);
  });

  it('counts only sessions that took the frame', () => {
    const hub = new Hub(limits);
    hub.subscribe(subscriber('a'), 'news', false);
    hub.subscribe(subscriber('full', 'full', false), 'news', false);
    expect(hub.publish('news', 'e', null)).toBe(1);
  });

  it('refuses invalid names, non-JSON data and oversize frames', () => {
    const hub = new Hub(limits);
    expect(() => hub.publish('', 'e', 1)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => hub.publish('news', 'bad\nname', 1)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => hub.publish('news', 'e', 10n)).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => hub.publish('news', 'e', 'x'.repeat(2000))).toThrow(expect.objectContaining({ code: 'message_too_large' }));
  });

  it('tracks presence per user: join on the first session, leave after the last', () => {
    const hub = new Hub(limits);
    const watcher = subscriber('w', 'watcher');
    hub.subscribe(watcher, 'room', true);
    const tab1 = subscriber('t1', 'bob');
    const tab2 = subscriber('t2', 'bob');
    const joined = hub.subscribe(tab1, 'room', true);
    expect(joined).toEqual({ id: 'bob', info: { name: 'BOB' } });
    hub.announce('join', 'room', joined!);
    expect(hub.subscribe(tab2, 'room', true)).toBeUndefined();
    expect(hub.members('room').map((m) => m.id).sort()).toEqual(['bob', 'watcher']);
    expect(hub.unsubscribe(tab1, 'room')).toBeUndefined();
    expect(hub.members('room').map((m) => m.id).sort()).toEqual(['bob', 'watcher']);
    expect(hub.unsubscribeAll(tab2)).toEqual(['room']);
    expect(hub.members('room').map((m) => m.id)).toEqual(['watcher']);
    expect(watcher.frames.map((f) => f.type)).toEqual(['join', 'leave']);
    expect(watcher.frames[1]).toMatchObject({ channel: 'room', member: { id: 'bob' } });
    expect(tab2.channels.size).toBe(0);
  });

  it('sends presence only for presence channels, and forgets empty channels', () => {
    const hub = new Hub(limits);
    const a = subscriber('a');
    expect(hub.subscribe(a, 'plain', false)).toBeUndefined();
    expect(hub.tracksPresence('plain')).toBe(false);
    expect(hub.members('plain')).toEqual([]);
    hub.subscribe(a, 'room', true);
    expect(hub.tracksPresence('room')).toBe(true);
    hub.unsubscribe(a, 'room');
    expect(hub.tracksPresence('room')).toBe(false);
    expect(hub.subscriberCount('room')).toBe(0);
  });
});
