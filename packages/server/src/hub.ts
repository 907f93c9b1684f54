/**
 * Channels on this node: which sessions follow which channel, publication through the broker,
 * presence through the broker, and the recovery of a subscription from history. No transport
 * here: a subscriber is anything that can queue a reliable frame. Ordering per channel is the
 * feeds' job (channel-feed.ts); a publication's tail is encoded once per node and each session
 * only prefixes its own sequence number.
 */
import { FrameCode, encodeTail, type Member } from '@wirehop/protocol';
import type { Broker, BrokerHost, HistoryLimits, StreamPosition } from './broker.js';
import { ChannelFeed, eventTail, gapTail, missing, type FeedSubscriber } from './channel-feed.js';
import type { ServerLimits } from './options.js';
import { OFFSET_ALLOWANCE, assertNames, assertTailSize } from './outgoing.js';
import type { HistoryResult, UserBase } from './types.js';

/** What the hub needs of a session. */
export interface Subscriber extends FeedSubscriber {
  readonly id: string;
  readonly user: UserBase;
  /** The hub keeps this in step with its own index. */
  readonly channels: Set<string>;
  /**
   * Whether a recovered frame of `units` still fits in what the subscriber holds for recovery. A
   * recovery goes in before its client can ack any of it: past this, the rest is a GAP, not a
   * replay buffer that overflows and ends the session. Absent: no bound but pushTail's own.
   */
  roomFor?(units: number): boolean;
}

/** What the hub needs of the server around it. */
export interface HubContext {
  limits: ServerLimits;
  broker: Broker;
  /** The history limits of a channel (its rule's, or the server's default). */
  history(channel: string): HistoryLimits;
  onError(error: unknown, phase: string): void;
}

/** Publications read per history request while recovering a subscription. */
const PAGE = 1000;

export function memberOf(user: UserBase): Member {
  return user.info === undefined ? { id: user.id } : { id: user.id, info: user.info };
}

/** The hub is the broker's host for publications and presence; the server routes the rest. */
export class Hub<S extends Subscriber> implements Pick<BrokerHost, 'publication' | 'presence' | 'reconnected'> {
  private readonly feeds = new Map<string, ChannelFeed<S>>();
  /** Feeds whose broker subscription is on its way: subscribers wait for it. */
  private readonly starting = new Map<ChannelFeed<S>, Promise<void>>();

  constructor(private readonly ctx: HubContext) {}

  // ---- subscriptions -----------------------------------------------------------------------

  /**
   * Subscribes a session. Without `since` it gets every publication after the returned position.
   * With `since` it first gets what history holds after it (or a GAP frame where it cannot), then
   * live publications, without overlap; the returned position is where live delivery took over.
   */
  async subscribe(session: S, channel: string, since?: StreamPosition): Promise<StreamPosition> {
    const feed = await this.follow(channel);
    session.channels.add(channel);
    if (!since || (since.epoch === feed.epoch && since.offset === feed.last)) {
      feed.subs.add(session);
      return { epoch: feed.epoch, offset: feed.last };
    }
    const waiting: Array<[FrameCode, number, string]> = [];
    feed.recovering.set(session, waiting);
    let pos = await this.recover(session, channel, since, feed);
    if (feed.recovering.get(session) !== waiting) return pos; // unsubscribed meanwhile
    feed.recovering.delete(session);
    // What the feed delivered during the history reads: only what history did not already give.
    let overlap = true; // until a GAP repositions the stream, live events history gave are skipped
    for (const [code, offset, tail] of waiting) {
      if (code === FrameCode.gap) overlap = false;
      else if (overlap && pos.epoch === feed.epoch && offset <= pos.offset) continue;
      session.pushTail(code, tail);
      pos = { epoch: feed.epoch, offset };
    }
    if (pos.epoch === feed.epoch && pos.offset > feed.last) {
      // The session has more than this node's feed delivered yet (it moved from a node that was ahead).
      feed.ahead.set(session, pos.offset);
      return pos;
    }
    // The feed changed epoch, or jumped a hole, while history was read: say so rather than guess.
    if (pos.epoch !== feed.epoch || pos.offset < feed.last) pos = this.gapToLive(session, feed, 'the channel history changed while this subscription was recovered');
    feed.subs.add(session);
    return pos;
  }

  /** A GAP (history_unavailable) to the feed's newest position, where live delivery takes over; returns that position. */
  private gapToLive(session: S, feed: ChannelFeed<S>, why: string): StreamPosition {
    const to = { epoch: feed.epoch, offset: feed.last };
    session.pushTail(FrameCode.gap, gapTail(feed.channel, 'history_unavailable', why, to));
    return to;
  }

  /** Reads history after `since` into the session; a GAP where it cannot. Returns how far it got. */
  private async recover(session: S, channel: string, since: StreamPosition, feed: ChannelFeed<S>): Promise<StreamPosition> {
    const json = JSON.stringify(channel);
    let pos = since;
    try {
      for (;;) {
        const page = await this.ctx.broker.history(channel, pos, PAGE);
        if (!page.complete) {
          const { to, why } = missing(page, pos);
          pos = to;
          session.pushTail(FrameCode.gap, gapTail(channel, 'history_unavailable', why, pos));
        }
        for (const p of page.publications) {
          if (p.offset <= pos.offset) continue;
          const tail = eventTail(json, p.payload, p.offset);
          if (session.roomFor?.(tail.length) === false) {
            // More than the session can hold unacked: say so, and go on live. A session that
            // overflowed here would be recovered again in the next one, and overflow again. Where
            // this node's feed is not past `pos` yet (another node published), it brings the rest
            // live; a changed epoch gets its GAP from subscribe().
            if (pos.epoch !== feed.epoch || feed.last <= pos.offset) return pos;
            return this.gapToLive(session, feed, `publications ${pos.offset + 1}..${feed.last} are more than half the session's replay buffer holds; the channel's history may still have them`);
          }
          // Refused: the subscriber takes no more (a session ending, a stream's burst spent); read no further.
          if (!session.pushTail(FrameCode.event, tail)) return pos;
          pos = { epoch: pos.epoch, offset: p.offset };
        }
        if (page.publications.length < PAGE) return pos;
      }
    } catch (error) {
      this.ctx.onError(error, 'history');
      return this.gapToLive(session, feed, `the history could not be read: ${(error as Error)?.message ?? error}`);
    }
  }

  /** Unsubscribes; idempotent. */
  unsubscribe(session: S, channel: string): void {
    if (!session.channels.delete(channel)) return;
    const feed = this.feeds.get(channel);
    if (!feed) return;
    feed.subs.delete(session);
    feed.recovering.delete(session);
    feed.ahead.delete(session);
    if (feed.empty) this.unfollow(feed);
  }

  /** Removes a session from every channel; returns the channels it was in. */
  unsubscribeAll(session: S): string[] {
    const channels = [...session.channels];
    for (const channel of channels) this.unsubscribe(session, channel);
    return channels;
  }

  /**
   * How far `session` got in `channel` here: the feed's position, or the session's own where it
   * arrived ahead of the feed. What a reply states and what a move to another node resumes from.
   */
  positionOf(session: S, channel: string): StreamPosition | undefined {
    const feed = this.feeds.get(channel);
    return feed?.ready ? { epoch: feed.epoch, offset: feed.ahead.get(session) ?? feed.last } : undefined;
  }

  /** The feed of `channel`, made and subscribed at the broker on first use. */
  private async follow(channel: string): Promise<ChannelFeed<S>> {
    let feed = this.feeds.get(channel);
    if (!feed) {
      const made = new ChannelFeed<S>(channel, {
        history: (c, s, l) => this.ctx.broker.history(c, s, l),
        onError: (e, p) => this.ctx.onError(e, p),
        maxPending: this.ctx.limits.maxPendingPublications,
      });
      this.feeds.set(channel, (feed = made));
      this.starting.set(
        made,
        this.ctx.broker.subscribe(channel).then(
          (position) => {
            this.starting.delete(made);
            made.start(position);
          },
          (error: unknown) => {
            this.starting.delete(made);
            if (this.feeds.get(channel) === made) this.feeds.delete(channel);
            made.close();
            throw error;
          },
        ),
      );
    }
    const pending = this.starting.get(feed);
    if (pending) await pending;
    return feed;
  }

  private unfollow(feed: ChannelFeed<S>): void {
    if (this.feeds.get(feed.channel) !== feed) return;
    this.feeds.delete(feed.channel);
    feed.close();
    const pending = this.starting.get(feed) ?? Promise.resolve();
    // After a pending subscribe settles, so the broker sees subscribe then unsubscribe.
    pending.then(
      () => (this.feeds.has(feed.channel) ? undefined : this.ctx.broker.unsubscribe(feed.channel)),
      () => undefined,
    ).catch((error: unknown) => this.ctx.onError(error, 'unsubscribe'));
  }

  // ---- publications ------------------------------------------------------------------------

  /**
   * Publishes through the broker. Throws WirehopError at once for invalid names, non-JSON data or a
   * frame over maxMessageBytes; the promise rejects with `broker_unavailable` if the broker could
   * not take it. With the in-memory broker, local subscribers have it queued before this returns.
   * `history`: the channel's limits, when the caller has matched its rule already.
   */
  publish(channel: string, event: string, data: unknown, history = this.ctx.history(channel)): Promise<StreamPosition> {
    assertNames(this.ctx.limits, event, channel);
    const payload = '[' + encodeTail([event, data ?? null]);
    assertTailSize(this.ctx.limits, payload, channel.length * 6 + 3 + OFFSET_ALLOWANCE);
    return this.ctx.broker.publish(channel, payload, history);
  }

  /** Publications held in `channel`'s history after `since` (the oldest held when undefined). */
  async history(channel: string, since: StreamPosition | undefined, limit: number): Promise<HistoryResult> {
    const page = await this.ctx.broker.history(channel, since, limit);
    const publications = page.publications.map((p) => {
      const [event, data] = JSON.parse(p.payload) as [string, unknown];
      return { offset: p.offset, event, data };
    });
    return { position: page.position, complete: page.complete, publications };
  }

  // ---- presence ----------------------------------------------------------------------------

  /** The session's user joins `channel`'s presence (announced if it is the user's first session anywhere). */
  join(session: S, channel: string): Promise<void> {
    return this.ctx.broker.presenceAdd(channel, memberOf(session.user));
  }

  /** The session's user leaves `channel`'s presence (announced if it was the user's last session anywhere). */
  leave(session: S, channel: string): Promise<void> {
    return this.ctx.broker.presenceRemove(channel, memberOf(session.user));
  }

  members(channel: string): Promise<Member[]> {
    return this.ctx.broker.members(channel);
  }

  /** Number of sessions on this node subscribed to a channel. */
  subscriberCount(channel: string): number {
    const feed = this.feeds.get(channel);
    return feed ? feed.subs.size + feed.recovering.size + feed.ahead.size : 0;
  }

  // ---- BrokerHost --------------------------------------------------------------------------

  publication(channel: string, epoch: string, offset: number, payload: string): void {
    this.feeds.get(channel)?.offer(epoch, offset, payload);
  }

  presence(channel: string, kind: 'join' | 'leave', member: Member): void {
    const feed = this.feeds.get(channel);
    if (!feed) return;
    const tail = encodeTail([channel, member]);
    const code = kind === 'join' ? FrameCode.join : FrameCode.leave;
    for (const s of feed.subs) s.pushTail(code, tail);
    for (const s of feed.recovering.keys()) s.pushTail(code, tail);
    for (const s of feed.ahead.keys()) s.pushTail(code, tail);
  }

  reconnected(): void {
    for (const feed of this.feeds.values()) feed.catchUp();
  }
}
