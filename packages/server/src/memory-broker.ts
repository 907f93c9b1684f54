/**
 * The default broker: one process, no network. Publications are delivered synchronously, before
 * `publish` returns, so a single node keeps today's behaviour exactly; history is a bounded array
 * per channel, trimmed by size on every publish and by age when read or swept.
 */
import { WirehopError, type Json, type Member } from '@wirehop/protocol';
import { nanoid } from 'nanoid';
import type { Broker, BrokerHost, BrokerPublication, EndedSession, HistoryLimits, HistoryPage, StreamPosition } from './broker.js';

interface Stored extends BrokerPublication {
  at: number;
}

interface ChannelState {
  offset: number;
  /** Oldest first; trimmed to the limits of the latest publish. */
  history: Stored[];
  ttlMs: number;
  subscribed: boolean;
  /** user id → { member, sessions } */
  presence: Map<string, { member: Member; sessions: number }>;
}

export class MemoryBroker implements Broker {
  readonly nodeId = nanoid(10);
  readonly distributed: boolean = false;
  /** One epoch for the process: history does not survive it. */
  private readonly epoch = nanoid(8);
  private readonly channels = new Map<string, ChannelState>();
  private host: BrokerHost | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  async start(host: BrokerHost): Promise<void> {
    this.host = host;
  }

  async close(): Promise<void> {
    this.host = undefined;
  }

  private state(channel: string): ChannelState {
    let s = this.channels.get(channel);
    if (!s) this.channels.set(channel, (s = { offset: 0, history: [], ttlMs: 0, subscribed: false, presence: new Map() }));
    return s;
  }

  /** Drops a channel's state once nothing refers to it and its history has expired. */
  private tidy(channel: string, s: ChannelState): void {
    this.expire(s);
    if (!s.subscribed && s.presence.size === 0 && s.history.length === 0 && s.offset === 0) this.channels.delete(channel);
  }

  private expire(s: ChannelState): void {
    const cutoff = this.now() - s.ttlMs;
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
      s.history.push({ offset, payload, at: this.now() });
      if (s.history.length > limits.size) s.history.splice(0, s.history.length - limits.size);
    } else if (s.history.length > 0) s.history = [];
    if (s.subscribed) this.host.publication(channel, this.epoch, offset, payload);
    return { epoch: this.epoch, offset };
  }

  async subscribe(channel: string): Promise<StreamPosition> {
    const s = this.state(channel);
    s.subscribed = true;
    return { epoch: this.epoch, offset: s.offset };
  }

  async unsubscribe(channel: string): Promise<void> {
    const s = this.channels.get(channel);
    if (!s) return;
    s.subscribed = false;
    this.tidy(channel, s);
  }

  async history(channel: string, since: StreamPosition | undefined, limit: number): Promise<HistoryPage> {
    const s = this.channels.get(channel);
    const position = { epoch: this.epoch, offset: s?.offset ?? 0 };
    if (!s) return { position, publications: [], complete: since === undefined || (since.epoch === this.epoch && since.offset === 0) };
    this.expire(s);
    const from = since && since.epoch === this.epoch ? since.offset : 0;
    const first = s.history[0]?.offset ?? s.offset + 1;
    // Complete when nothing after `since` was dropped: the oldest held is the next one wanted.
    const complete = since === undefined || (since.epoch === this.epoch && since.offset <= s.offset && first <= since.offset + 1);
    const publications: BrokerPublication[] = [];
    for (const p of s.history) {
      if (p.offset <= from) continue;
      if (publications.length >= limit) break;
      publications.push({ offset: p.offset, payload: p.payload });
    }
    return { position, publications, complete };
  }

  /** Drops expired history everywhere; the server's sweep calls it. */
  sweep(): void {
    for (const [channel, s] of this.channels) this.tidy(channel, s);
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
    if (s.subscribed) this.host?.presence(channel, 'leave', entry.member);
    this.tidy(channel, s);
  }

  async members(channel: string): Promise<Member[]> {
    const s = this.channels.get(channel);
    return s ? [...s.presence.values()].map((e) => e.member) : [];
  }

  // A single node holds every session it knows: there is nobody to ask.
  async claimSession(): Promise<void> {}
  async releaseSession(): Promise<void> {}
  async sessionOwner(): Promise<string | undefined> {
    return undefined;
  }
  async endSession(): Promise<void> {}
  async endedSession(): Promise<EndedSession | undefined> {
    return undefined;
  }
  async request(nodeId: string, _message: Json): Promise<Json> {
    throw new WirehopError('broker_unavailable', `no node ${JSON.stringify(nodeId)}: the in-memory broker is a single node`);
  }
}
