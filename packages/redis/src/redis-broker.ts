/**
 * The Redis broker: wirehop nodes sharing channel offsets, history, presence and sessions through
 * one Redis. Two connections per node: commands (Lua scripts, scripts.ts) and a subscriber (the
 * channels this node follows and its own inbox). Every multi-step change is one script, so nodes
 * never see each other's half-done work; what the node itself has added (presence, session
 * claims) it also keeps here, to put back when Redis lost it.
 */
import { WirehopError, type Json, type Member } from '@wirehop/protocol';
import type { Broker, BrokerHost, EndedSession, HistoryLimits, HistoryPage, StreamPosition } from '@wirehop/server';
import type { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { keysFor, presenceField, type Keys } from './keys.js';
import { Inbox, type Sent } from './inbox.js';
import { decodeChannelMessage, decodeInboxMessage } from './messages.js';
import { makeClient, resolveOptions, unavailable, type RedisBrokerOptions, type ResolvedOptions } from './options.js';
import * as lua from './scripts.js';

type Script = (...args: Array<string | number>) => Promise<unknown>;

function defineScripts(client: Redis) {
  const define = (name: string, numberOfKeys: number, source: string): Script => {
    // defineCommand sends EVALSHA and falls back to EVAL when Redis forgot the script (a restart).
    client.defineCommand(name, { numberOfKeys, lua: source });
    const fn = (client as unknown as Record<string, Script>)[name]!;
    return (...args) => fn.apply(client, args);
  };
  return {
    publish: define('wirehopPublish', 2, lua.PUBLISH),
    position: define('wirehopPosition', 2, lua.POSITION),
    history: define('wirehopHistory', 2, lua.HISTORY),
    presenceAdd: define('wirehopPresenceAdd', 3, lua.PRESENCE_ADD),
    presenceRemove: define('wirehopPresenceRemove', 3, lua.PRESENCE_REMOVE),
    presenceRestore: define('wirehopPresenceRestore', 3, lua.PRESENCE_RESTORE),
    tick: define('wirehopTick', 1, lua.TICK),
    leave: define('wirehopLeave', 1, lua.LEAVE),
    claim: define('wirehopClaim', 2, lua.CLAIM),
    release: define('wirehopRelease', 2, lua.RELEASE),
    send: define('wirehopSend', 1, lua.SEND),
    sendToOwner: define('wirehopSendToOwner', 1, lua.SEND_TO_OWNER),
    others: define('wirehopOthers', 1, lua.OTHERS),
  };
}

export class RedisBroker implements Broker {
  readonly nodeId: string;
  readonly distributed = true;
  private readonly options: ResolvedOptions;
  private readonly keys: Keys;
  /** This node's inbox and the prefix of channel pub/sub names: compared on every incoming message. */
  private readonly inboxKey: string;
  private readonly pubsubPrefix: string;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly scripts: ReturnType<typeof defineScripts>;
  private host: BrokerHost | undefined;
  private started = false;
  private closed = false;
  /** Pub/sub channels this node follows (channel names, not Redis channel names). */
  private readonly channels = new Set<string>();
  /** This node's presence: channel → user id → sessions, to restore when Redis lost it. */
  private readonly presence = new Map<string, Map<string, { member: Member; sessions: number }>>();
  /** Sessions this node claimed, to restore and to refresh. */
  private readonly claims = new Set<string>();
  private readonly inbox: Inbox;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private claimTimer: ReturnType<typeof setInterval> | undefined;
  private ticking = false;
  /** A connection dropped since the last complete recovery. */
  private lost = false;
  /** Connection drops so far: a recovery that saw another drop while it ran goes round again. */
  private drops = 0;
  private recovering = false;
  private lastErrorAt = -Infinity;
  private suppressedErrors = 0;

  constructor(options: RedisBrokerOptions = {}) {
    this.options = resolveOptions(options);
    this.nodeId = this.options.nodeId;
    this.keys = keysFor(this.options.prefix);
    this.inboxKey = this.keys.inbox(this.nodeId);
    this.pubsubPrefix = this.keys.pubsub('');
    this.cmd = makeClient(options, 'command', this.options.commandTimeoutMs);
    this.sub = makeClient(options, 'subscriber', this.options.commandTimeoutMs);
    this.scripts = defineScripts(this.cmd);
    for (const [client, role] of [[this.cmd, 'command'], [this.sub, 'subscriber']] as const) {
      client.on('error', (error: Error) => this.connectionError(role, error));
      client.on('close', () => {
        if (this.closed) return;
        this.drops++;
        this.lost = true;
      });
      client.on('ready', () => {
        if (this.lost && this.started) void this.recover();
      });
    }
    this.sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.inbox = new Inbox(this.nodeId, {
      send: async (nodeId, message) => (await this.scripts.send(this.keys.node(nodeId), this.keys.inbox(nodeId), message)) as number,
      sendToOwner: async (sid, message) => ((await this.scripts.sendToOwner(this.keys.session(sid), this.options.prefix, this.nodeId, message)) as Sent | null) ?? undefined,
      answer: (nodeId, message) => (this.closed ? Promise.resolve() : this.cmd.publish(this.keys.inbox(nodeId), message)),
      handle: (message, from) => {
        if (!this.host) return Promise.reject(new WirehopError('broker_unavailable', 'the broker is closing'));
        return this.host.request(message, from);
      },
      report: (error) => this.report(error),
    });
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async start(host: BrokerHost): Promise<void> {
    if (this.closed) throw new WirehopError('broker_unavailable', 'the broker was closed');
    this.host = host;
    this.lost = false;
    // ioredis rejects connect() with "Connection is closed"; the 'error' event says why.
    let why: Error | undefined;
    const remember = (error: Error) => (why ??= error);
    this.cmd.on('error', remember);
    this.sub.on('error', remember);
    try {
      await Promise.all([connect(this.cmd), connect(this.sub)]);
      await this.sub.subscribe(this.inboxKey);
      await this.tick(true);
    } catch (error) {
      this.cmd.disconnect();
      this.sub.disconnect();
      this.host = undefined;
      throw unavailable(why ?? error, `could not connect to redis`);
    } finally {
      this.cmd.off('error', remember);
      this.sub.off('error', remember);
    }
    this.started = true;
    this.tickTimer = setInterval(() => void this.tick(false), timerMs(this.options.nodeTtlMs / 3));
    this.tickTimer.unref?.();
    this.claimTimer = setInterval(() => void this.restoreClaims().catch((e) => this.connectionError('command', e)), timerMs(this.options.sessionTtlMs / 2));
    this.claimTimer.unref?.();
    // A connection that dropped while starting came back without this node's subscriptions.
    if (this.lost) void this.recover();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tickTimer);
    clearInterval(this.claimTimer);
    this.inbox.rejectAll(new WirehopError('broker_unavailable', 'the broker was closed before the answer came'));
    if (this.started && this.cmd.status === 'ready') {
      // The node's presence leaves now rather than after nodeTtlMs; if Redis is away, the others reap it later.
      await this.scripts.leave(this.keys.nodes, this.options.prefix, this.nodeId).catch((e) => this.report(unavailable(e, 'could not release this node')));
    }
    await Promise.all([quit(this.cmd), quit(this.sub)]);
    this.channels.clear();
    this.presence.clear();
    this.claims.clear();
    this.host = undefined;
  }

  /** Refreshes liveness and reaps dead nodes; restores this node's state when Redis lost it. */
  private async tick(starting: boolean): Promise<void> {
    if (!starting && (this.ticking || this.closed)) return;
    this.ticking = true;
    try {
      const reply = (await this.scripts.tick(this.keys.nodes, this.options.prefix, this.nodeId, this.options.nodeTtlMs, starting ? '1' : '0')) as [number, ...string[]];
      if (reply[0] === 1) await this.restore();
    } catch (error) {
      if (starting) throw error;
      this.connectionError('command', error);
    } finally {
      this.ticking = false;
    }
    // A recovery that failed for a reason other than a dropped connection gets another go here.
    if (this.lost && !this.closed && this.cmd.status === 'ready' && this.sub.status === 'ready') void this.recover();
  }

  /** After a connection loss: subscriptions back, node registered and restored, then tell the host. */
  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      for (;;) {
        // Not both up: the other connection's 'ready' calls again.
        if (this.closed || this.cmd.status !== 'ready' || this.sub.status !== 'ready') return;
        const drops = this.drops;
        const wanted = [this.inboxKey, ...[...this.channels].map((c) => this.keys.pubsub(c))];
        await this.sub.subscribe(...wanted);
        // Not `tick(false)`: its errors must fail the recovery, not just be reported.
        const reply = (await this.scripts.tick(this.keys.nodes, this.options.prefix, this.nodeId, this.options.nodeTtlMs, '0')) as [number];
        if (reply[0] === 1) await this.restore();
        // A drop meanwhile may have taken the subscriptions just made: once more.
        if (this.drops !== drops) continue;
        this.lost = false;
        this.call('reconnected', () => this.host?.reconnected());
        return;
      }
    } catch (error) {
      this.connectionError('command', error);
    } finally {
      this.recovering = false;
    }
  }

  /** Puts this node's presence and claims back (Redis restarted empty, or this node was reaped while alive). */
  private async restore(): Promise<void> {
    const work: Array<Promise<unknown>> = [];
    for (const [channel, users] of this.presence) {
      const k = this.presenceKeys(channel);
      for (const [userId, { member, sessions }] of users) {
        work.push(this.scripts.presenceRestore(...k, userId, JSON.stringify(member), presenceField(channel, userId), this.keys.pubsub(channel), sessions));
      }
    }
    await Promise.all(work);
    await this.restoreClaims();
  }

  private async restoreClaims(): Promise<void> {
    const nodeSessions = this.keys.nodeSessions(this.nodeId);
    await Promise.all(
      [...this.claims].map((sid) => this.scripts.claim(this.keys.session(sid), nodeSessions, this.nodeId, sid, this.options.sessionTtlMs, '1')),
    );
  }

  // ---- channels ----------------------------------------------------------------------------

  async publish(channel: string, payload: string, history: HistoryLimits): Promise<StreamPosition> {
    this.assertStarted();
    const reply = await this.scripts
      .publish(this.keys.meta(channel), this.keys.stream(channel), nanoid(12), payload, Math.max(0, Math.floor(history.size)), Math.max(0, Math.floor(history.ttlMs)), this.options.channelTtlMs, this.keys.pubsub(channel))
      .catch((e) => {
        throw unavailable(e, `could not publish to ${JSON.stringify(channel)}`);
      });
    const [epoch, offset] = reply as [string, number];
    return { epoch, offset };
  }

  async subscribe(channel: string): Promise<StreamPosition> {
    this.assertStarted();
    this.channels.add(channel);
    try {
      // Subscribed first, position second: whatever is published after the position is then sure to arrive.
      await this.sub.subscribe(this.keys.pubsub(channel));
      const [epoch, offset] = (await this.scripts.position(this.keys.meta(channel), this.keys.stream(channel), nanoid(12), this.options.channelTtlMs)) as [string, number];
      return { epoch, offset };
    } catch (error) {
      this.channels.delete(channel);
      this.sub.unsubscribe(this.keys.pubsub(channel)).catch(() => {});
      throw unavailable(error, `could not subscribe to ${JSON.stringify(channel)}`);
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.channels.delete(channel)) return;
    // While disconnected there is nothing to undo: recovery only subscribes what is still followed.
    if (this.sub.status === 'ready') await this.sub.unsubscribe(this.keys.pubsub(channel)).catch((e) => this.connectionError('subscriber', e));
  }

  async history(channel: string, since: StreamPosition | undefined, limit: number): Promise<HistoryPage> {
    this.assertStarted();
    const reply = (await this.scripts
      .history(this.keys.meta(channel), this.keys.stream(channel), nanoid(12), this.options.channelTtlMs, since ? '1' : '0', since?.epoch ?? '', Math.floor(since?.offset ?? 0), Math.max(0, Math.floor(limit)))
      .catch((e) => {
        throw unavailable(e, `could not read the history of ${JSON.stringify(channel)}`);
      })) as [string, number, number, ...string[]];
    const publications = [];
    for (let i = 3; i + 1 < reply.length; i += 2) publications.push({ offset: parseInt(reply[i] as string, 10), payload: reply[i + 1] as string });
    return { position: { epoch: reply[0], offset: reply[1] }, publications, complete: reply[2] === 1 };
  }

  // ---- presence ----------------------------------------------------------------------------

  private presenceKeys(channel: string): [string, string, string] {
    return [this.keys.presenceCounts(channel), this.keys.presenceMembers(channel), this.keys.nodePresence(this.nodeId)];
  }

  async presenceAdd(channel: string, member: Member): Promise<void> {
    this.assertStarted();
    // Counted here before Redis answers, so a restore that starts meanwhile sends a count that includes it.
    let users = this.presence.get(channel);
    if (!users) this.presence.set(channel, (users = new Map()));
    const entry = users.get(member.id);
    if (entry) entry.sessions++;
    else users.set(member.id, { member, sessions: 1 });
    await this.scripts
      .presenceAdd(...this.presenceKeys(channel), member.id, JSON.stringify(member), presenceField(channel, member.id), this.keys.pubsub(channel))
      .catch((e) => {
        throw unavailable(e, `could not add presence in ${JSON.stringify(channel)} (this node restores it when Redis is back)`);
      });
  }

  async presenceRemove(channel: string, member: Member): Promise<void> {
    this.assertStarted();
    const users = this.presence.get(channel);
    const entry = users?.get(member.id);
    if (!users || !entry) return;
    if (--entry.sessions <= 0) users.delete(member.id);
    if (users.size === 0) this.presence.delete(channel);
    await this.scripts
      .presenceRemove(...this.presenceKeys(channel), member.id, presenceField(channel, member.id), this.keys.pubsub(channel))
      .catch((e) => {
        throw unavailable(e, `could not remove presence in ${JSON.stringify(channel)} (this node restores its own count when Redis is back)`);
      });
  }

  async members(channel: string): Promise<Member[]> {
    this.assertStarted();
    const all = await this.cmd.hvals(this.keys.presenceMembers(channel)).catch((e) => {
      throw unavailable(e, `could not read the members of ${JSON.stringify(channel)}`);
    });
    return all.map((json) => JSON.parse(json) as Member);
  }

  // ---- sessions across nodes ---------------------------------------------------------------

  async claimSession(sid: string): Promise<void> {
    this.assertStarted();
    this.claims.add(sid);
    await this.scripts.claim(this.keys.session(sid), this.keys.nodeSessions(this.nodeId), this.nodeId, sid, this.options.sessionTtlMs, '0').catch((e) => {
      throw unavailable(e, `could not claim session ${sid}`);
    });
  }

  async releaseSession(sid: string): Promise<void> {
    this.assertStarted();
    this.claims.delete(sid);
    await this.scripts.release(this.keys.session(sid), this.keys.nodeSessions(this.nodeId), this.nodeId, sid).catch((e) => {
      throw unavailable(e, `could not release session ${sid}`);
    });
  }

  async endSession(sid: string, record: EndedSession, ttlMs: number): Promise<void> {
    this.assertStarted();
    if (ttlMs <= 0) return;
    await this.cmd.set(this.keys.ended(sid), JSON.stringify(record), 'PX', ttlMs).catch((e) => {
      throw unavailable(e, `could not record the end of session ${sid}`);
    });
  }

  async endedSession(sid: string): Promise<EndedSession | undefined> {
    this.assertStarted();
    const text = await this.cmd.get(this.keys.ended(sid)).catch((e) => {
      throw unavailable(e, `could not look up the end of session ${sid}`);
    });
    if (text === null) return undefined;
    let record: Partial<EndedSession>;
    try {
      record = JSON.parse(text) as Partial<EndedSession>;
    } catch {
      return undefined;
    }
    // Written by this module, but Redis is shared: anything else reads as "nothing kept".
    if (typeof record.code !== 'string' || typeof record.message !== 'string' || typeof record.ack !== 'number' || typeof record.tokenHash !== 'string') return undefined;
    return record as EndedSession;
  }

  /** See {@link Inbox.request}: rejects `broker_unavailable` at once when the node is not alive, `timeout` after `timeoutMs`. */
  request(nodeId: string, message: Json, timeoutMs: number): Promise<Json> {
    this.assertStarted();
    return this.inbox.request(nodeId, message, timeoutMs);
  }

  async otherNodes(): Promise<number> {
    this.assertStarted();
    return (await this.scripts.others(this.keys.nodes, this.options.prefix, this.nodeId).catch((e) => {
      throw unavailable(e, 'could not count the other nodes');
    })) as number;
  }

  /** See {@link Inbox.requestOwner}. */
  requestOwner(sid: string, message: Json, timeoutMs: number): Promise<{ owner: string; answer: Json } | undefined> {
    this.assertStarted();
    return this.inbox.requestOwner(sid, message, timeoutMs);
  }

  // ---- incoming ----------------------------------------------------------------------------

  private onMessage(redisChannel: string, message: string): void {
    try {
      if (redisChannel === this.inboxKey) return this.inbox.receive(decodeInboxMessage(message));
      if (!redisChannel.startsWith(this.pubsubPrefix)) return;
      const channel = redisChannel.slice(this.pubsubPrefix.length);
      if (!this.channels.has(channel)) return;
      const m = decodeChannelMessage(message);
      if (m.kind === 'publication') this.call('publication', () => this.host?.publication(channel, m.epoch, m.offset, m.payload));
      else this.call('presence', () => this.host?.presence(channel, m.kind, m.member));
    } catch (error) {
      this.report(error);
    }
  }

  // ---- errors ------------------------------------------------------------------------------

  private assertStarted(): void {
    if (!this.started || this.closed) throw new WirehopError('broker_unavailable', this.closed ? 'the broker was closed' : 'the broker is not started');
  }

  /** Calls into the host; a throwing host is reported, never propagated into ioredis. */
  private call(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (what !== 'error') this.report(error);
    }
  }

  private report(error: unknown): void {
    const host = this.host;
    if (host) this.call('error', () => host.error(error));
  }

  /** Connection trouble: reported at most once per errorIntervalMs, with a count of what was held back. */
  private connectionError(role: 'command' | 'subscriber', error: unknown): void {
    if (this.closed) return;
    const now = Date.now();
    if (now - this.lastErrorAt < this.options.errorIntervalMs) {
      this.suppressedErrors++;
      return;
    }
    const held = this.suppressedErrors > 0 ? ` (${this.suppressedErrors} more since the last report)` : '';
    this.lastErrorAt = now;
    this.suppressedErrors = 0;
    this.report(unavailable(error, `redis ${role} connection${held}`));
  }
}

/** setInterval takes at most 2^31 - 1 ms (it fires at once beyond); a longer period is clamped to that. */
const timerMs = (ms: number) => Math.min(Math.max(1, ms), 2 ** 31 - 1);

/** Connects a client that may be new (lazyConnect) or already connecting (createClient). */
function connect(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'wait') return client.connect();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      client.off('ready', onReady);
      client.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onError = (error: Error) => done(error);
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

async function quit(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else client.disconnect();
}
