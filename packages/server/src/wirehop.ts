/**
 * createWirehop: ties the pieces together. Owns the registry, the hub, the handlers, the shared
 * timers and the transports' entry points, and is the host every piece reports to. The logic
 * lives in the pieces; this file is glue.
 */
import type { Server as HttpServer } from 'node:http';
import { ErrorCodes, ErrorMeanings, Paths, type ClientReliableFrame, type ErrorCode, type Json, type Member, type StreamPosition } from '@wirehop/protocol';
import type { Hono } from 'hono';
import type { WebSocketServer } from 'ws';
import { ChannelRules } from './channels.js';
import { Dispatcher, type MessageHandler, type RequestHandler } from './dispatch.js';
import { EventStreams } from './event-streams.js';
import { createRoutes, type HttpHost } from './http.js';
import type { BrokerHost, HistoryLimits } from './broker.js';
import { Hub, type Subscriber } from './hub.js';
import { NodeSessions } from './nodes.js';
import { createWebSocketServer, joinPath, listen, upgradeListener, type ListenHost, type UpgradeHost } from './node.js';
import { resolveHistory, resolveOptions, type ResolvedOptions } from './options.js';
import { originAllowed } from './origin.js';
import { ServerSession, type SessionHost, type SessionState } from './session.js';
import type { Closing } from './handshake.js';
import { SessionRegistry } from './sessions.js';
import { AckScheduler, LoopDelay, Sweeper, sessionDue, sweepInterval } from './timers.js';
import type { WsConnection } from './transports/websocket.js';
import type { ChannelConfig, HistoryResult, ListeningServer, ServerOptions, Session, UpgradableServer, UserBase, Wirehop } from './types.js';

/** How long close() lets WebSocket closing handshakes finish before destroying the sockets. */
const CLOSE_GRACE_MS = 1000;
/** How often a drain lets sessions go, and looks whether every session has moved. */
const DRAIN_POLL_MS = 25;
/** How many sessions a drain lets go per second, at most (until a quarter of drainMs is over). */
const LET_GO_PER_S = 1000;
/** How many times a drain asks for the other nodes, this far apart, before it takes itself to be alone. */
const ALONE_CHECKS = 3;
const ALONE_RECHECK_MS = 250;
/** Default and largest `limit` of a history read. */
const HISTORY_DEFAULT_LIMIT = 100;
const HISTORY_MAX_LIMIT = 1000;

type Listener = (...args: never[]) => void;
const EVENTS = new Set(['session', 'close', 'subscribe', 'unsubscribe']);

/**
 * Creates a wirehop server. Throws TypeError for invalid or conflicting options.
 *
 * @example
 * const wirehop = createWirehop({ authenticate: ({ auth }) => userFor(auth) })
 *   .channel('room:*', { publish: true, presence: true });
 * const { url } = await wirehop.listen({ port: 3000 });
 */
export function createWirehop<U extends UserBase = UserBase>(options?: ServerOptions<U>): Wirehop<U> {
  return new WirehopServer<U>(options);
}

class WirehopServer<U extends UserBase>
  implements Wirehop<U>, SessionHost<U>, HttpHost<U>, UpgradeHost<U>, ListenHost
{
  readonly options: ResolvedOptions<U>;
  readonly path: string;
  readonly app: Hono;
  readonly registry: SessionRegistry<ServerSession<U>>;
  readonly loop: LoopDelay;
  closing: false | Closing = false;
  draining = false;

  /** Sessions and EventSource streams (event-streams.ts) alike subscribe here. */
  readonly hub: Hub<Subscriber>;
  readonly eventStreams: EventStreams<U>;
  private readonly nodes: NodeSessions<U>;
  private readonly rules = new ChannelRules<U>();
  private readonly requests = new Map<string, RequestHandler<U>>();
  private readonly messages = new Map<string, MessageHandler<U>>();
  private readonly dispatcher: Dispatcher<U>;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly acks: AckScheduler<ServerSession<U>>;
  private readonly sweeper: Sweeper;
  private readonly connections = new Set<WsConnection<U>>();
  /** The servers wirehop's upgrades are wired to (attach(), listen()). */
  private readonly attached = new Set<UpgradableServer>();
  private wss: WebSocketServer | undefined;
  private closed: Promise<void> | undefined;
  private connectionsGone: (() => void) | undefined;
  private readonly started: Promise<void>;
  /** History limits by channel rule: resolved once per rule, not per publish. */
  private readonly historyByRule = new WeakMap<ChannelConfig<U>, HistoryLimits>();

  constructor(options?: ServerOptions<U>) {
    this.options = resolveOptions(options);
    this.path = this.options.path;
    this.registry = new SessionRegistry(this.options);
    const { broker } = this.options;
    const server = this;
    this.hub = new Hub({ limits: this.options.limits, broker, history: (channel) => this.historyOf(channel), onError: (error, phase) => this.onError(error, phase) });
    const host: BrokerHost = {
      publication: (channel, epoch, offset, payload) => this.hub.publication(channel, epoch, offset, payload),
      presence: (channel, kind, member) => this.hub.presence(channel, kind, member),
      reconnected: () => this.hub.reconnected(),
      error: (error) => this.onError(error, 'broker'),
      request: (message, from) => this.nodes.answer(message, from),
    };
    this.eventStreams = new EventStreams<U>({
      options: this.options,
      hub: this.hub,
      get closing() {
        return server.closing !== false;
      },
      rule: (channel) => this.rules.match(channel),
      onError: (error, phase) => this.onError(error, phase),
    });
    this.nodes = new NodeSessions(this, broker);
    this.started = broker.start(host);
    // Failing to start is reported here and again to whoever awaits ready() or listen().
    this.started.catch((error: unknown) => this.onError(error, 'broker'));
    this.dispatcher = new Dispatcher<U>({
      hub: this.hub,
      limits: this.options.limits,
      historyLimit: HISTORY_MAX_LIMIT,
      tracksPresence: (channel) => this.tracksPresence(channel),
      historyFor: (config) => this.historyFor(config),
      rules: this.rules,
      requests: this.requests,
      messages: this.messages,
      emit: (event, session, channel) => this.emit(event, session, session, channel),
      left: (session, channel) => this.left(session, channel),
      onError: (error, phase, session) => this.onError(error, phase, session),
    });
    this.acks = new AckScheduler(this.options.ackEvery, this.options.ackDelayMs, (error) => this.onError(error, 'ack'));
    this.sweeper = new Sweeper(sweepInterval(this.options), (now) => this.sweep(now), (error) => this.onError(error, 'sweep'));
    this.sweeper.start();
    this.loop = new LoopDelay(this.options.maxEventLoopDelayMs);
    this.loop.start();
    this.app = createRoutes<U>(this) as unknown as Hono;
  }

  // ---- public API --------------------------------------------------------------------------

  get sessionCount(): number {
    return this.registry.size;
  }

  get eventStreamCount(): number {
    return this.eventStreams.size;
  }

  mount(app: Hono): void {
    app.route(this.path, this.app);
  }

  attach(server: UpgradableServer): void {
    this.attachUpgrades(server, false);
  }

  /** attach() for a server made by listen(): other upgrade paths are refused rather than left hanging. */
  attachExclusive(server: HttpServer): void {
    this.attachUpgrades(server, true);
  }

  async listen(options?: { port?: number; hostname?: string; app?: Hono }): Promise<ListeningServer> {
    await this.started;
    return listen(this, options);
  }

  channel(pattern: string, config?: ChannelConfig<U>): this {
    this.rules.add(pattern, config);
    return this;
  }

  onRequest(method: string, handler: RequestHandler<U>): this {
    if (typeof handler !== 'function') throw new TypeError(`wirehop: onRequest(${JSON.stringify(method)}) needs a function`);
    this.requests.set(method, handler);
    return this;
  }

  onMessage(event: string, handler: MessageHandler<U>): this {
    if (typeof handler !== 'function') throw new TypeError(`wirehop: onMessage(${JSON.stringify(event)}) needs a function`);
    this.messages.set(event, handler);
    return this;
  }

  on(event: 'session', listener: (session: Session<U>) => void): this;
  on(event: 'close', listener: (session: Session<U>, reason: { code: string; message: string }) => void): this;
  on(event: 'subscribe' | 'unsubscribe', listener: (session: Session<U>, channel: string) => void): this;
  on(event: string, listener: (...args: never[]) => void): this {
    if (!EVENTS.has(event)) throw new TypeError(`wirehop: unknown event ${JSON.stringify(event)} (known: ${[...EVENTS].join(', ')})`);
    if (typeof listener !== 'function') throw new TypeError(`wirehop: on(${JSON.stringify(event)}) needs a function`);
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  publish(channel: string, event: string, data?: unknown): Promise<StreamPosition> {
    const stored = this.hub.publish(channel, event, data);
    // A publish nobody awaits must not fail silently, nor crash the process as an unhandled rejection.
    stored.catch((error: unknown) => this.onError(error, 'publish'));
    return stored;
  }

  presence(channel: string): Promise<Member[]> {
    return this.hub.members(channel);
  }

  history(channel: string, options: { since?: StreamPosition; limit?: number } = {}): Promise<HistoryResult> {
    const limit = options.limit ?? HISTORY_DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 0 || limit > HISTORY_MAX_LIMIT)
      throw new TypeError(`wirehop: history limit must be an integer from 0 to ${HISTORY_MAX_LIMIT} (got ${String(limit)})`);
    return this.hub.history(channel, options.since, limit);
  }

  ready(): Promise<void> {
    return this.started;
  }

  session(id: string): Session<U> | undefined {
    return this.registry.get(id);
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  // ---- host duties -------------------------------------------------------------------------

  dispatch(session: ServerSession<U>, frame: ClientReliableFrame): void | Promise<void> {
    return this.dispatcher.dispatch(session, frame);
  }

  scheduleAck(session: ServerSession<U>): void {
    this.acks.schedule(session);
  }

  createSession(id: string, user: U): ServerSession<U> {
    const session = new ServerSession<U>(id, this.registry.newToken(), user, this, Date.now());
    this.registry.add(session);
    this.nodes.claimed(session);
    this.emit('session', session, session);
    return session;
  }

  restoreSession(state: SessionState): ServerSession<U> {
    const session = ServerSession.fromState<U>(state, this, Date.now());
    this.registry.add(session);
    this.nodes.claimed(session);
    return session;
  }

  adopt(sid: string, token: string): Promise<void> {
    return this.nodes.adopt(sid, token);
  }

  forward(kind: 'send' | 'delete', sid: string, token: string, body?: string) {
    return this.nodes.forward(kind, sid, token, body);
  }

  tracksPresence(channel: string): boolean {
    return this.rules.match(channel)?.presence === true;
  }

  ended(session: ServerSession<U>, code: ErrorCode, message: string): void {
    this.registry.end(session, code, message, session.processed, Date.now());
    // The tombstone first: a resume that reaches another node once the claim is gone finds it.
    this.nodes.ended(session, code, message);
    this.nodes.released(session);
    for (const channel of this.hub.unsubscribeAll(session)) this.left(session, channel);
    this.emit('close', session, session, { code, message });
  }

  /** `session` left `channel` (unsubscribed, or ended): its presence there, then the listeners. */
  private left(session: ServerSession<U>, channel: string): void {
    if (this.tracksPresence(channel)) this.hub.leave(session, channel).catch((error: unknown) => this.onError(error, 'presence', session));
    this.emit('unsubscribe', session, session, channel);
  }

  onError(error: unknown, phase: string, session?: ServerSession<U>): void {
    try {
      this.options.onError(error, session ? { session, phase } : { phase });
    } catch (failure) {
      console.error('[wirehop] onError threw:', failure, 'while reporting:', error);
    }
  }

  originAllowed(origin: string | undefined, host: string | undefined, request: () => Request): boolean {
    try {
      return originAllowed(this.options.origins, origin, host, request);
    } catch (error) {
      this.onError(error, 'origins');
      return false;
    }
  }

  connectionOpened(connection: WsConnection<U>): void {
    this.connections.add(connection);
    if (this.closing) connection.terminate(ErrorCodes[this.closing].close, this.closing);
  }

  connectionClosed(connection: WsConnection<U>): void {
    this.connections.delete(connection);
    if (this.connections.size === 0) this.connectionsGone?.();
  }

  // ---- internals ---------------------------------------------------------------------------

  /**
   * Lets every session go to the other nodes (docs/scaling.md, "Rolling restarts"): each client is
   * told `server_draining` and resumes through the load balancer, and the node it reaches takes
   * the session over from this one, as for any resume that lands elsewhere. Until then the session
   * stays here, whole: frames for it are queued, POSTs answered, and they move with it. Resolves
   * once none is left, or after `drainMs`.
   */
  private async drain(drainMs: number): Promise<void> {
    const deadline = Date.now() + drainMs;
    // Let go a few at each tick, not all at once: every client resuming at the same moment is a
    // reconnect storm for the other nodes (and their accept queues). LET_GO_PER_S, and all within
    // a quarter of drainMs. A connection with no session yet is refused when its HELLO comes.
    const sessions = [...this.registry.values()];
    const spreadMs = Math.min(drainMs / 4, (sessions.length * 1000) / LET_GO_PER_S);
    const perTick = Math.ceil(sessions.length / Math.max(1, spreadMs / DRAIN_POLL_MS));
    let next = 0;
    // Alone (a lone node restarting), or cut off from the broker the handoffs go through: nobody
    // can take the sessions, so nothing is gained by waiting. Asked beside the first slice rather
    // than before it, so that close() starts at once; and asked again before believed, since every
    // session here would end with a gap: under load, one count timed out (commandTimeoutMs) while
    // the other nodes were there. A lone node waits ALONE_RECHECK_MS × (ALONE_CHECKS - 1) more.
    let alone = false;
    void (async () => {
      for (let check = 1; ; check++) {
        try {
          if ((await this.options.broker.otherNodes()) > 0) return;
        } catch (error) {
          this.onError(error, 'broker');
        }
        if (check === ALONE_CHECKS) return void (alone = true);
        await new Promise((resolve) => setTimeout(resolve, ALONE_RECHECK_MS));
      }
    })();
    // Polled: a session leaves by a handoff, an end or an expiry, and this is bounded anyway. A
    // handoff is over once the new node took the user's presence over: closing before would make
    // the user leave the room and join again.
    while ((this.registry.size > 0 || this.nodes.presenceOwed > 0) && Date.now() < deadline && !alone) {
      for (const end = Math.min(sessions.length, next + perTick); next < end; next++) sessions[next]!.letGo('server_draining', ErrorMeanings.server_draining);
      // A kept-alive connection to this node would bring the client's resume straight back here
      // (an ended SSE stream's, a refusal's): close them as they fall idle, and the next request
      // opens a new one, which the balancer sends elsewhere. HTTP/1 only; HTTP/2 has no such call.
      for (const server of this.attached) (server as Partial<HttpServer>).closeIdleConnections?.();
      await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, deadline - Date.now())));
    }
  }

  private historyOf(channel: string): HistoryLimits {
    return this.historyFor(this.rules.match(channel));
  }

  private historyFor(rule: ChannelConfig<U> | undefined): HistoryLimits {
    if (!rule || rule.history === undefined) return this.options.history;
    let limits = this.historyByRule.get(rule);
    if (!limits) this.historyByRule.set(rule, (limits = resolveHistory('channel history', rule.history, this.options.history)));
    return limits;
  }

  private emit(event: string, session: ServerSession<U>, ...args: unknown[]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        this.onError(error, `listener:${event}`, session);
      }
    }
  }

  private attachUpgrades(server: UpgradableServer, exclusive: boolean): void {
    if (this.attached.has(server)) return;
    this.attached.add(server);
    this.wss ??= createWebSocketServer(this.options.limits);
    // Every kind emits 'upgrade' with (IncomingMessage, Duplex, Buffer); HTTP/2 only for HTTP/1.1 connections.
    (server as HttpServer).on('upgrade', upgradeListener(this, this.wss, joinPath(this.path, Paths.websocket), exclusive));
  }

  /** The shared periodic sweep: TTL, dead links, heartbeats, hello timeouts, tombstones. */
  private sweep(now: number): void {
    for (const session of this.registry.values()) {
      try {
        this.sweepSession(session, now);
      } catch (error) {
        this.onError(error, 'sweep', session); // one session's failure must not stop the sweep of the others
      }
    }
    for (const connection of this.connections) {
      if (connection.awaitingWelcome && now - connection.openedAt >= this.options.helloTimeoutMs)
        connection.fail('hello_timeout', `no HELLO within ${this.options.helloTimeoutMs} ms`);
    }
    this.eventStreams.sweep(now);
    this.registry.expireTombstones(now);
    this.options.broker.sweep?.();
  }

  private sweepSession(session: ServerSession<U>, now: number): void {
    const d = session.attached;
    const clocks = { attached: d !== null, lastHeard: session.lastHeard, lastBeat: session.lastBeat, detachedAt: session.detachedAt };
    switch (sessionDue(now, clocks, this.options)) {
      case 'expire':
        session.end('session_expired', `no transport for ${this.options.sessionTtlMs} ms`);
        return;
      case 'dead':
        session.letGo('heartbeat_timeout', `nothing heard for ${now - session.lastHeard} ms`);
        return;
      case 'beat':
        d?.heartbeat(now);
        session.lastBeat = now;
        return;
      case null:
        return;
    }
  }

  private async shutdown(): Promise<void> {
    const { broker, drainMs } = this.options;
    // Only a broker that other nodes share can take the sessions over: elsewhere they end here.
    const draining = broker.distributed === true && drainMs > 0;
    // Once set, stays: a request reaching this node after the drain may be for a session that
    // moved, and must not be told that it ended.
    this.closing = draining ? 'server_draining' : 'server_closing';
    this.sweeper.stop();
    this.loop.stop();
    this.eventStreams.closeAll();
    if (draining) {
      this.draining = true;
      await this.drain(drainMs);
      this.draining = false;
    }
    this.acks.stop();
    // What did not move in time (its client did not come back) ends, with a tombstone in the
    // broker: a late resume elsewhere learns how it ended and how far it got.
    for (const session of [...this.registry.values()]) session.end('server_closing', ErrorMeanings.server_closing);
    for (const connection of this.connections) connection.terminate(ErrorCodes[this.closing].close, this.closing);
    if (this.connections.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.connectionsGone = resolve;
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      clearTimeout(timer);
      for (const connection of this.connections) connection.destroy();
    }
    this.wss?.close();
    await this.options.broker.close().catch((error: unknown) => this.onError(error, 'broker'));
  }
}
