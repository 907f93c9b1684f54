/**
 * The default broker: one process, no network. Publications are delivered synchronously, before
 * `publish` returns, so a single node keeps today's behaviour exactly; history is a bounded array
 * per channel, trimmed by size on every publish and by age when read or swept. A channel nobody
 * uses is forgotten after `channelTtlMs`, as the Redis broker forgets it: memory stays bounded by
 * the channels in use, however many names an application makes up over time.
 */
import { WirehopError, type Json, type Member } from '@wirehop/protocol';
import { nanoid } from 'nanoid';
import type { Broker, BrokerHost, BrokerPublication, EndedSession, HistoryLimits, HistoryPage, StreamPosition } from './broker.js';

interface Stored extends BrokerPublication {
  at: number;
}

interface ChannelState {
  /** Per channel: a channel forgotten and used again starts over in a new epoch, at offset 1. */
  epoch: string;
  offset: number;
  /** Last publish, subscribe or history read. */
  used: number;
  /** Oldest first; trimmed to the limits of the latest publish. */
  history: Stored[];
  ttlMs: number;
  subscribed: boolean;
  /** user id → { member, sessions } */
  presence: Map<string, { member: Member; sessions: number }>;
}

export interface MemoryBrokerOptions {
  /**
   * How long a channel's epoch and offset outlive its last publish, subscribe or history read (or
   * its history ttl, if longer), while no session is subscribed and no presence is in it. A channel
   * idle longer is forgotten: used again, it starts a new epoch, and resuming it reports a gap.
   * Default 86 400 000 ms (a day), as the Redis broker's.
   */
  channelTtlMs?: number;
  /**
   * Most channels one sweep (about once a second) looks at; the next sweep goes on where it
   * stopped, so no sweep stalls the server for long however many channels there are. With more
   * channels than this, a pass takes channels ÷ sweepChannels sweeps, and an idle channel is
   * forgotten (or its expired history dropped) up to one pass late. Default 10 000.
   */
  sweepChannels?: number;
  /** The clock. Default Date.now. */
  now?: () => number;
}

export class MemoryBroker implements Broker {
  readonly nodeId = nanoid(10);
  readonly distributed: boolean = false;
  private readonly channels = new Map<string, ChannelState>();
  private host: BrokerHost | undefined;
  private readonly now: () => number;
  private readonly channelTtlMs: number;
  private readonly sweepChannels: number;
  /** Where the pass over the channels stands between sweeps; undefined: the next sweep starts one. */
  private cursor: Iterator<[string, ChannelState]> | undefined;

  constructor(options: MemoryBrokerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.channelTtlMs = options.channelTtlMs ?? 86_400_000;
    this.sweepChannels = options.sweepChannels ?? 10_000;
    if (!(this.channelTtlMs >= 0)) throw new TypeError(`MemoryBroker: channelTtlMs must be a number of ms ≥ 0, got ${options.channelTtlMs}`);
    if (!(Number.isSafeInteger(this.sweepChannels) && this.sweepChannels >= 1))
      throw new TypeError(`MemoryBroker: sweepChannels must be an integer ≥ 1, got ${options.sweepChannels}`);
  }

  /** How many channels it holds state for (subscribed, with presence or history, or used lately). */
  get channelCount(): number {
    return this.channels.size;
  }

  async start(host: BrokerHost): Promise<void> {
    this.host = host;
  }

  async close(): Promise<void> {
    this.host = undefined;
  }

  /** The channel's state, created on first use; every call counts as a use. */
  private state(channel: string): ChannelState {
    let s = this.channels.get(channel);
    if (!s) this.channels.set(channel, (s = { epoch: nanoid(8), offset: 0, used: 0, history: [], ttlMs: 0, subscribed: false, presence: new Map() }));
    s.used = this.now();
    return s;
  }

  private expire(s: ChannelState, now: number): void {
    const cutoff = now - s.ttlMs;
    let drop = 0;
    while (drop < s.history.length && (s.history[drop] as Stored).at <= cutoff) drop++;
    if (drop > 0) s.history.splice(0, drop);
  }

  /** Delivers to this node before the promise settles: a single node stays synchronous. */
  async publish(channel: string, payload: string, limits: HistoryLimits): Promise<StreamPosition> {
    if (!this.host) throw new WirehopError('broker_unavailable', 'the broker is not started');
    const s = this.state(channel);
    const offset = ++s.offset;
    if (limits.size > 0 && limits.ttlMs > 0) {
      s.ttlMs = limits.ttlMs;
      s.history.push({ offset, payload, at: s.used }); // state() just set it to now
      if (s.history.length > limits.size) s.history.splice(0, s.history.length - limits.size);
    } else if (s.history.length > 0) s.history = [];
    if (s.subscribed) this.host.publication(channel, s.epoch, offset, payload);
    return { epoch: s.epoch, offset };
  }

  async subscribe(channel: string): Promise<StreamPosition> {
    const s = this.state(channel);
    s.subscribed = true;
    return { epoch: s.epoch, offset: s.offset };
  }

  async unsubscribe(channel: string): Promise<void> {
    const s = this.channels.get(channel);
    if (!s) return;
    s.subscribed = false;
    s.used = this.now(); // idle from now on
  }

  async history(channel: string, since: StreamPosition | undefined, limit: number): Promise<HistoryPage> {
    // A read creates the channel too: the epoch it answers with must be the one later publishes use.
    const s = this.state(channel);
    const position = { epoch: s.epoch, offset: s.offset };
    this.expire(s, s.used); // now: state() just set it
    const from = since && since.epoch === s.epoch ? since.offset : 0;
    const first = s.history[0]?.offset ?? s.offset + 1;
    // Complete when nothing after `since` was dropped: the oldest held is the next one wanted.
    const complete = since === undefined || (since.epoch === s.epoch && since.offset <= s.offset && first <= since.offset + 1);
    const publications: BrokerPublication[] = [];
    for (const p of s.history) {
      if (p.offset <= from) continue;
      if (publications.length >= limit) break;
      publications.push({ offset: p.offset, payload: p.payload });
    }
    return { position, publications, complete };
  }

  /**
   * The server's sweep, over the next `sweepChannels` channels of a pass: drops their expired
   * history, and forgets those nobody uses (no subscriber, no presence, no history left, idle for
   * channelTtlMs). Even one with no publication yet waits that long: a client holds its position
   * (epoch, offset 0), which a new epoch would answer with a gap. A pass that ends mid-sweep stops
   * that sweep, so no channel is looked at twice in one. (A Map's iterator skips entries deleted
   * after it was made and reaches those added since.)
   */
  sweep(): void {
    const now = this.now();
    for (let n = 0; n < this.sweepChannels; n++) {
      this.cursor ??= this.channels.entries();
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = undefined;
        return;
      }
      const [channel, s] = next.value;
      this.expire(s, now);
      if (!s.subscribed && s.presence.size === 0 && s.history.length === 0 && now - s.used >= this.channelTtlMs) this.channels.delete(channel);
    }
  }

  async presenceAdd(channel: string, member: Member): Promise<void> {
    const s = this.state(channel);
    const entry = s.presence.get(member.id);
    if (entry) {
      entry.sessions++;
      return;
    }
    s.presence.set(member.id, { member, sessions: 1 });
    if (s.subscribed) this.host?.presence(channel, 'join', member);
  }

  async presenceRemove(channel: string, member: Member): Promise<void> {
    const s = this.channels.get(channel);
    const entry = s?.presence.get(member.id);
    if (!s || !entry) return;
    if (--entry.sessions > 0) return;
    s.presence.delete(member.id);
    s.used = this.now(); // idle from now on
    if (s.subscribed) this.host?.presence(channel, 'leave', entry.member);
  }

  async members(channel: string): Promise<Member[]> {
    const s = this.channels.get(channel);
    return s ? [...s.presence.values()].map((e) => e.member) : [];
  }

  // A single node holds every session it knows: there is nobody to ask.
  async claimSession(): Promise<void> {}
  async releaseSession(): Promise<void> {}
  async otherNodes(): Promise<number> {
    return 0;
  }
  async endSession(): Promise<void> {}
  async endedSession(): Promise<EndedSession | undefined> {
    return undefined;
  }
  async requestOwner(): Promise<{ owner: string; answer: Json } | undefined> {
    return undefined;
  }
  async request(nodeId: string, _message: Json): Promise<Json> {
    throw new WirehopError('broker_unavailable', `no node ${JSON.stringify(nodeId)}: the in-memory broker is a single node`);
  }
}
