/**
 * Channels: who is subscribed, publication fan-out, and presence per user. No transport here: a
 * subscriber is anything that can queue a reliable frame. A publication's tail is encoded once and
 * each session only prefixes its own sequence number (encodeTail / encodeWithTail).
 */
import { FrameCode, encodeTail, type Member } from '@wirehop/protocol';
import type { ServerLimits } from './options.js';
import { assertNames, assertTailSize } from './outgoing.js';
import type { UserBase } from './types.js';

/** What the hub needs of a session. */
export interface Subscriber {
  readonly id: string;
  readonly user: UserBase;
  /** The hub keeps this in step with its own index. */
  readonly channels: Set<string>;
  /** Queues a reliable frame; false if the session could not take it (ended or overflowing). */
  pushTail(code: FrameCode, tail: string): boolean;
}

interface PresenceEntry {
  member: Member;
  /** Sessions of this user subscribed to the channel: presence is per user, not per tab. */
  sessions: number;
}

function memberOf(user: UserBase): Member {
  return user.info === undefined ? { id: user.id } : { id: user.id, info: user.info };
}

export class Hub<S extends Subscriber> {
  private readonly subscribers = new Map<string, Set<S>>();
  /** channel → user id → entry. A channel is here exactly while it tracks presence and has subscribers. */
  private readonly presence = new Map<string, Map<string, PresenceEntry>>();

  constructor(private readonly limits: ServerLimits) {}

  /** Subscribes; returns the member that joined if this is its user's first session here (presence channels). */
  subscribe(session: S, channel: string, trackPresence: boolean): Member | undefined {
    if (session.channels.has(channel)) return undefined;
    let set = this.subscribers.get(channel);
    if (!set) this.subscribers.set(channel, (set = new Set()));
    set.add(session);
    session.channels.add(channel);
    if (!trackPresence) return undefined;
    let users = this.presence.get(channel);
    if (!users) this.presence.set(channel, (users = new Map()));
    const entry = users.get(session.user.id);
    if (entry) {
      entry.sessions++;
      return undefined;
    }
    const member = memberOf(session.user);
    users.set(session.user.id, { member, sessions: 1 });
    return member;
  }

  /** Unsubscribes; returns the member that left if this was its user's last session here. */
  unsubscribe(session: S, channel: string): Member | undefined {
    if (!session.channels.delete(channel)) return undefined;
    const set = this.subscribers.get(channel);
    set?.delete(session);
    if (set?.size === 0) this.subscribers.delete(channel);
    const users = this.presence.get(channel);
    const entry = users?.get(session.user.id);
    if (!users || !entry) return undefined;
    if (--entry.sessions > 0) return undefined;
    users.delete(session.user.id);
    if (users.size === 0) this.presence.delete(channel);
    return entry.member;
  }

  /** Removes a session from every channel, announcing leaves; returns the channels it was in. */
  unsubscribeAll(session: S): string[] {
    const channels = [...session.channels];
    for (const channel of channels) {
      const left = this.unsubscribe(session, channel);
      if (left) this.announce('leave', channel, left);
    }
    return channels;
  }

  /**
   * Queues an event for every subscriber. Returns how many sessions took it. Throws
   * WirehopError for invalid names, non-JSON data or a frame over maxMessageBytes.
   */
  publish(channel: string, event: string, data: unknown): number {
    assertNames(this.limits, event, channel);
    const set = this.subscribers.get(channel);
    const tail = encodeTail([channel, event, data ?? null]);
    assertTailSize(this.limits, tail);
    if (!set) return 0;
    let queued = 0;
    for (const session of set) if (session.pushTail(FrameCode.event, tail)) queued++;
    return queued;
  }

  /** JOIN or LEAVE to every subscriber of a presence channel. */
  announce(kind: 'join' | 'leave', channel: string, member: Member): void {
    const set = this.subscribers.get(channel);
    if (!set) return;
    const tail = encodeTail([channel, member]);
    const code = kind === 'join' ? FrameCode.join : FrameCode.leave;
    for (const session of set) session.pushTail(code, tail);
  }

  /** True if the channel tracks presence (it has subscribers and its config says so). */
  tracksPresence(channel: string): boolean {
    return this.presence.has(channel);
  }

  /** Members present in a channel, one per user. */
  members(channel: string): Member[] {
    const users = this.presence.get(channel);
    return users ? [...users.values()].map((entry) => entry.member) : [];
  }

  /** Number of sessions subscribed to a channel. */
  subscriberCount(channel: string): number {
    return this.subscribers.get(channel)?.size ?? 0;
  }
}
