/**
 * One channel's publications on this node, in order. The broker may hand over a publication twice
 * or out of order (pub/sub racing a history read, messages lost while its connection was down);
 * the feed delivers each offset once, in offset order, to every local subscriber, fills holes from
 * the broker's history, and where history cannot fill a hole it tells the subscribers with a GAP
 * frame (protocol.md §2) — never silent loss.
 *
 * A session subscribing with a position to resume from ("recovering") first gets what history holds
 * after it; live publications meanwhile wait in a per-session list and follow without overlap.
 */
import { FrameCode, encodeTail } from '@wirehop/protocol';
import type { HistoryPage, StreamPosition } from './broker.js';

/** What a feed needs of a session. */
export interface FeedSubscriber {
  pushTail(code: FrameCode, tail: string): boolean;
}

/** What a feed needs of the node. */
export interface FeedHost {
  history(channel: string, since: StreamPosition, limit: number): Promise<HistoryPage>;
  onError(error: unknown, phase: string): void;
  /** How many out-of-order publications a feed holds while it fills a hole, before it gives up on the hole (limits.maxPendingPublications). */
  maxPending: number;
}
/** Publications asked for per history read. */
const PAGE = 1000;
/** Pause before a failed history read is tried again. */
const RETRY_MS = 250;

/** The event frame's tail for a publication: `"channel","event",data,offset]`. */
export function eventTail(channelJson: string, payload: string, offset: number): string {
  // payload is the JSON array [event, data]: its inside goes between the channel and the offset.
  return channelJson + ',' + payload.slice(1, -1) + ',' + offset + ']';
}

/** The GAP frame's tail: `"channel","code","message",{"epoch":…,"offset":…}]`. */
export function gapTail(channel: string, code: string, message: string, position: StreamPosition): string {
  return encodeTail([channel, code, message, position]);
}

/**
 * What a history page that is not `complete` says is missing after `since`: the position the
 * stream jumps to (just before the oldest publication still held) and why, for a GAP frame.
 */
export function missing(page: HistoryPage, since: StreamPosition): { to: StreamPosition; why: string } {
  const first = page.publications[0]?.offset ?? page.position.offset + 1;
  const why =
    page.position.epoch !== since.epoch ? 'the channel history was lost (new epoch)' : `publications ${since.offset + 1}..${first - 1} are no longer in the history`;
  return { to: { epoch: page.position.epoch, offset: first - 1 }, why };
}

export class ChannelFeed<S extends FeedSubscriber> {
  readonly subs = new Set<S>();
  /**
   * Sessions that already have publications up to an offset this feed has not reached (they moved
   * here from a node whose feed was ahead): they join `subs` once the feed passes it.
   */
  readonly ahead = new Map<S, number>();
  /** Sessions catching up from history → live frames (EVENT or GAP, offset, tail) they have yet to get. */
  readonly recovering = new Map<S, Array<[FrameCode, number, string]>>();
  epoch = '';
  /** Last offset delivered to the subscribers. */
  last = 0;
  ready = false;
  private readonly channelJson: string;
  /** Publications that arrived before the position was known. */
  private early: Array<[string, number, string]> = [];
  private readonly pending = new Map<number, string>();
  private filling = false;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly channel: string,
    private readonly host: FeedHost,
  ) {
    this.channelJson = JSON.stringify(channel);
  }

  get empty(): boolean {
    return this.subs.size === 0 && this.recovering.size === 0 && this.ahead.size === 0;
  }

  /** The broker's subscription is in place: everything after `position` will be offered. */
  start(position: StreamPosition): void {
    this.epoch = position.epoch;
    this.last = position.offset;
    this.ready = true;
    const early = this.early;
    this.early = [];
    for (const [epoch, offset, payload] of early) this.offer(epoch, offset, payload);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.pending.clear();
    this.early = [];
  }

  /** A publication from the broker, in whatever order it came. */
  offer(epoch: string, offset: number, payload: string): void {
    if (this.closed) return;
    if (!this.ready) {
      if (this.early.length < this.host.maxPending) this.early.push([epoch, offset, payload]);
      return;
    }
    if (epoch !== this.epoch) {
      // The broker lost the channel's history (a new epoch): what came after `last` in the old one is gone.
      this.gap('history_unavailable', `the channel's history was lost (new epoch); publications after offset ${this.last} may be missing`, { epoch, offset: 0 });
      this.pending.clear();
    }
    if (offset <= this.last) return;
    if (offset === this.last + 1) {
      this.deliver(offset, payload);
      this.drainPending();
      return;
    }
    this.pending.set(offset, payload);
    if (this.pending.size > this.host.maxPending) {
      const first = Math.min(...this.pending.keys());
      this.gap('history_unavailable', `publications ${this.last + 1}..${first - 1} could not be read back in time`, { epoch: this.epoch, offset: first - 1 });
      this.drainPending();
      return;
    }
    this.fill();
  }

  /** Reads what may have been missed (after a broker reconnect): holes are filled, a new epoch is a gap. */
  catchUp(): void {
    if (this.ready) this.fill();
  }

  private deliver(offset: number, payload: string): void {
    this.last = offset;
    const tail = eventTail(this.channelJson, payload, offset);
    for (const s of this.subs) s.pushTail(FrameCode.event, tail);
    for (const list of this.recovering.values()) list.push([FrameCode.event, offset, tail]);
    if (this.ahead.size > 0)
      for (const [s, until] of this.ahead) {
        if (offset < until) continue;
        this.ahead.delete(s);
        this.subs.add(s); // from the next publication on
      }
  }

  private drainPending(): void {
    let next: string | undefined;
    while ((next = this.pending.get(this.last + 1)) !== undefined) {
      this.pending.delete(this.last + 1);
      this.deliver(this.last + 1, next);
    }
    // Anything at or below `last` (a gap jumped over it) is stale.
    for (const offset of this.pending.keys()) if (offset <= this.last) this.pending.delete(offset);
  }

  /** Tells every subscriber that publications up to `to` will not come, and continues after it. */
  gap(code: string, message: string, to: StreamPosition): void {
    this.epoch = to.epoch;
    this.last = to.offset;
    const tail = gapTail(this.channel, code, message, to);
    for (const s of this.ahead.keys()) this.subs.add(s);
    this.ahead.clear();
    for (const s of this.subs) s.pushTail(FrameCode.gap, tail);
    for (const list of this.recovering.values()) list.push([FrameCode.gap, to.offset, tail]);
  }

  /** Reads history after `last` until the holes are filled, the history ends, or it says it cannot. */
  private fill(): void {
    if (this.filling || this.closed) return;
    this.filling = true;
    void this.fillLoop().then(
      () => {
        this.filling = false;
      },
      (error: unknown) => {
        this.filling = false;
        this.host.onError(error, 'history');
        if (!this.closed) this.retry = setTimeout(() => this.fill(), RETRY_MS);
      },
    );
  }

  private async fillLoop(): Promise<void> {
    for (;;) {
      const since = { epoch: this.epoch, offset: this.last };
      const page = await this.host.history(this.channel, since, PAGE);
      if (this.closed) return;
      if (this.epoch !== since.epoch || this.last !== since.offset) {
        if (this.pending.size === 0) return;
        continue; // live delivery moved on meanwhile: read again from where it is
      }
      if (!page.complete) {
        const { to, why } = missing(page, since);
        this.gap('history_unavailable', why, to);
      }
      for (const p of page.publications) if (p.offset === this.last + 1) this.deliver(p.offset, p.payload);
      this.drainPending();
      const more = page.publications.length >= PAGE;
      if (!more && (this.pending.size === 0 || page.publications.length === 0)) {
        // A hole history does not cover (yet): the publication may still be on its way by pub/sub.
        if (this.pending.size > 0) this.retry = setTimeout(() => this.fill(), RETRY_MS);
        return;
      }
    }
  }
}
