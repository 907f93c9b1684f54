/**
 * The public types of @wirehop/server, exactly as .tmp/contract.md states them. Implementation
 * types live next to their code; this file holds only what applications see.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Json, Member, StreamPosition } from '@wirehop/protocol';
import type { Broker } from './broker.js';
import type { Hono } from 'hono';

/** What every user object has. `info` is what presence shows for this user. */
export interface UserBase {
  id: string;
  info?: Json;
}

/** What `authenticate` gets to decide who a new session belongs to. */
export interface AuthContext {
  /** WHATWG Headers of the HELLO-carrying request (the WebSocket upgrade or `POST /session`), or of `GET /events`. */
  headers: Headers;
  cookies: Record<string, string>;
  /**
   * HELLO.auth, as the client sent it. For an EventSource stream (which cannot set headers), the
   * request's query parameters other than `channel` and `since`, as strings (undefined if none).
   */
  auth: Json | undefined;
  /** 'sse' for an EventSource stream too. */
  transport: 'websocket' | 'sse';
  /** Set only for a read-only EventSource stream (`GET {path}/events`): the channel it asks for. */
  channel?: string;
  ip: string | undefined;
}

/** Rules for the channels whose names match one pattern (see {@link Wirehop.channel}). */
export interface ChannelConfig<U extends UserBase> {
  /** May this session subscribe? Default: yes. Return false or throw WirehopError('forbidden', reason). */
  authorize?: (session: Session<U>, channel: string) => boolean | Promise<boolean>;
  /**
   * May clients publish here? Default false. A function may return false (refuse), true (as is),
   * or `{ data }` to replace the payload. Publishing needs a subscription to the channel.
   */
  publish?:
    | boolean
    | ((
        session: Session<U>,
        channel: string,
        event: string,
        data: unknown,
      ) => boolean | { data: unknown } | Promise<boolean | { data: unknown }>);
  /** Track presence (join/leave per user) for channels matching this pattern. Default false. */
  presence?: boolean;
  /**
   * History kept for these channels (recovery after a lost session or node, and `history()`):
   * overrides the server's `history` option. `false` keeps none: a lost session then gets a gap.
   */
  history?: false | HistoryOptions;
  /**
   * Let a plain browser `EventSource` read matching channels at `GET {path}/events?channel=<name>`
   * (read-only, resumable with `Last-Event-ID`; docs/guide.md). The reader goes through
   * `authenticate` and `authorize` as a session would. Default false: a channel is not readable
   * this way unless its rule says so.
   */
  eventSource?: boolean;
}

/** How much of a channel's publications to keep. */
export interface HistoryOptions {
  /** Most publications kept per channel. Default 1000. */
  size?: number;
  /** Oldest publication kept, in ms (refreshed by each publish with Redis). Default 300_000 (5 minutes). */
  ttlMs?: number;
}

/** What {@link Wirehop.history} returns. */
export interface HistoryResult {
  /** The channel's position when the history was read. */
  position: StreamPosition;
  /** Publications after `since`, oldest first. */
  publications: Array<{ offset: number; event: string; data: unknown }>;
  /** False if publications after `since` are no longer held (older than the history keeps, or another epoch). */
  complete: boolean;
}

/**
 * A Node server that can carry WebSocket upgrades: http, https, or what @hono/node-server's serve()
 * returns (an HTTP/2 server with `allowHTTP1` carries them over its HTTP/1.1 connections).
 */
export type UpgradableServer = HttpServer | HttpsServer | Http2Server | Http2SecureServer;

/**
 * Size limits. Each defaults to the same-named entry of the protocol's Defaults (postsInFlight,
 * postWaitMs, maxEarlyMessages, maxSubscriptions, maxPendingFrames, handlersInFlight and maxPendingPublications, server-only, to the values
 * given below); docs/guide.md says what happens when one is reached.
 */
export interface ServerLimits {
  /** Largest frame either way, in bytes (64 KiB). */
  maxMessageBytes: number;
  /** Largest POST body, in bytes (1 MiB). */
  maxBatchBytes: number;
  /** Most frames in one POST body (1,024). */
  maxBatchFrames: number;
  /**
   * Most POST /send bodies of one session in flight at once (4), told to the client in WELCOME. A
   * body that overtook earlier ones waits for them; one more than this many is refused with
   * `out_of_order` (the client resumes and resends). 1: one body at a time, none waits.
   */
  postsInFlight: number;
  /** How long such a body waits for the ones it overtook before it is refused with `out_of_order` (10 s). */
  postWaitMs: number;
  /** Most unacked frames kept per session for replay (10,000). */
  replayBufferFrames: number;
  /** Most UTF-16 code units of unacked frames kept per session (1 MiB). */
  replayBufferBytes: number;
  /** Stop writing to a connection whose buffer holds more than this many bytes (256 KiB). */
  highWaterMarkBytes: number;
  /** Longest channel name (256 characters). */
  maxChannelLength: number;
  /** Longest event or method name (128 characters). */
  maxNameLength: number;
  /**
   * WebSocket messages a client may send right behind its HELLO, before the WELCOME (1,024): the
   * server holds them while it handles the HELLO. One more is refused with `out_of_order`.
   */
  maxEarlyMessages: number;
  /**
   * Channels one session may be subscribed to at once (1,024), so that no client can make the
   * server hold subscriptions without bound. One more subscribe is answered `too_many_subscriptions`;
   * the session and its other subscriptions go on.
   */
  maxSubscriptions: number;
  /**
   * Client frames of one session received but not yet dispatched (10,000, at least 64): they wait
   * while an authorize or publish hook is pending, or for a handler place (handlersInFlight). One more is refused with `out_of_order`; the
   * client resumes and resends, which slows it down. The reference client keeps at most its
   * outbox (maxQueue, 1,000) unacked, so it never gets there with the defaults.
   */
  maxPendingFrames: number;
  /**
   * Request and message handlers of one session running at once (64): a handler that returned a
   * promise counts until it settles. The next request or message waits for one of them, and so do
   * the frames behind it (order is kept; nothing is refused or dropped): the client's outbox fills
   * instead of the server's memory. 1 runs them one at a time.
   */
  handlersInFlight: number;
  /**
   * Publications of one channel a node holds out of order (10,000): a broker may deliver a later
   * one before an earlier one it lost or delayed, and the node reads the missing ones back from
   * history meanwhile. One more gives up on the hole: the channel's subscribers get a GAP frame
   * (`history_unavailable`) for what is missing, then the held publications in order. Before the
   * channel's broker subscription is in place, publications beyond it are not held; they are read
   * back from history like any other hole.
   */
  maxPendingPublications: number;
}

/** Options of {@link createWirehop}. Every number is validated at construction. */
export interface ServerOptions<U extends UserBase = UserBase> {
  /** Base path of the routes. Default '/wirehop'. */
  path?: string;
  /**
   * New sessions only. Return the user, or throw WirehopError('unauthorized', reason, { status })
   * (status defaults to 401). Default: every client is an anonymous user `{ id: <session id> }`.
   */
  authenticate?: (ctx: AuthContext) => U | Promise<U>;
  /**
   * Origin allow-list for WS upgrades, SSE and POST. Default 'same-origin': requests without an
   * Origin header (non-browser) and same-origin requests (Origin host === Host) pass, others get
   * 403 forbidden_origin. '*' allows all.
   */
  origins?: 'same-origin' | '*' | string[] | ((origin: string, request: Request) => boolean);
  /** CORS answers for allowed origins (preflight + headers). Default { credentials: true, maxAgeS: 600 }. false disables. */
  cors?: false | { credentials?: boolean; maxAgeS?: number };
  /** WebSocket PING period and SSE comment period. Default Defaults.heartbeatMs (15 s). */
  heartbeatMs?: number;
  /** Extra silence tolerated before a link is dead. Default Defaults.heartbeatTimeoutMs (10 s). */
  heartbeatTimeoutMs?: number;
  /** How long a session outlives its last transport. Default Defaults.sessionTtlMs (30 s). */
  sessionTtlMs?: number;
  /** Time a new WebSocket has to send HELLO. Default Defaults.helloTimeoutMs (10 s). */
  helloTimeoutMs?: number;
  /** How long ended sessions are remembered, so a late resume learns their ack. Default 300_000. */
  tombstoneTtlMs?: number;
  /** Most ended sessions remembered. Default 10_000. */
  maxTombstones?: number;
  /** Ack after this many client frames... Default Defaults.ackEvery (32). */
  ackEvery?: number;
  /** ...or this long after the first unacked one. Default Defaults.ackDelayMs (50 ms). */
  ackDelayMs?: number;
  /** Size limits; each defaults to the same-named entry of Defaults. */
  limits?: Partial<ServerLimits>;
  /**
   * What connects this process to other wirehop processes. Default: a new in-memory broker (one
   * process). Use @wirehop/redis to run several processes behind a load balancer.
   */
  broker?: Broker;
  /** Channel history for every channel whose rule does not say otherwise. Default { size: 1000, ttlMs: 300_000 }. */
  history?: false | HistoryOptions;
  /**
   * With a broker other processes share (@wirehop/redis): how long close() waits for the other
   * nodes to take this one's sessions over. Each client is told `server_draining` and resumes
   * through the load balancer, with no gap; what has not moved by then ends with
   * `server_closing`. Default 10_000; 0 ends every session at once. Without such a broker, or
   * with no other node alive on it, close() ends them at once (no other node could take them).
   */
  drainMs?: number;
  /**
   * Most EventSource channel streams (`GET {path}/events`) open at once. A reader over the limit
   * gets `event: unavailable` (`stream_limit`) and the end of its response, and comes back after
   * 5–7.5 s (protocol.md §5a). Default 10_000.
   */
  maxEventStreams?: number;
  /**
   * Most live sessions this server process holds (100_000). A new session past it is refused
   * before authenticate() runs, with `server_busy` (503; on WebSocket an ERROR frame and close
   * 4503) and a retry hint of `busyRetryMs`; the client keeps its outbox and tries again after the
   * hint, spread over twice as long. Resumes are never refused for it: a session that exists
   * already counts.
   */
  maxSessions?: number;
  /**
   * Most live sessions one user (the id authenticate() returned) holds in this process at once; 0,
   * the default, sets no limit, since an application may give many people one id (guests). A new
   * session past it is refused with `too_many_sessions` (429; on WebSocket an ERROR frame and close
   * 4429), so that one user cannot take the whole of maxSessions; the client reports it and tries
   * again with backoff, on the same transport. Resumes are never refused for it.
   */
  maxSessionsPerUser?: number;
  /**
   * Overload shedding: while this process's event loop ran more than this many ms late within the
   * last second (a timer sampled every 100 ms), a new session is refused before authenticate() runs,
   * with `server_busy` and a retry hint of `busyRetryMs`, as past maxSessions. A process that far
   * behind already serves its sessions late, and a crowd of new ones (a reconnect storm after a
   * restart) would put it further behind; the balancer may send the retry to another process.
   * Resumes are never refused for it: those sessions exist already. 0, the default, never refuses;
   * a few hundred ms suits most servers (a healthy Node process runs its timers within a few ms).
   */
  maxEventLoopDelayMs?: number;
  /**
   * The retry hint of a `server_busy` refusal, in ms (5_000): the ERROR frame's `retryMs`, the
   * HTTP body's `retryMs` and `Retry-After` header. The reference client waits a random time
   * between it and twice it, so that a crowd refused at once comes back spread out.
   */
  busyRetryMs?: number;
  /** User-callback errors and transport errors end here. Default: console.error. Never rethrown. */
  onError?: (error: unknown, where: { session?: Session<U>; phase: string }) => void;
}

/** One client's conversation with the server; outlives its connections. */
export interface Session<U extends UserBase = UserBase> {
  readonly id: string;
  readonly user: U;
  /** Current downstream, read-only (for logs). null while detached; 'sse' for the read-only EventSource stream `authorize` may be shown. */
  readonly transport: 'websocket' | 'sse' | null;
  readonly channels: ReadonlySet<string>;
  /** Application state for this session. */
  readonly data: Record<string, unknown>;
  /** Reliable message to this session only (client's `on('message')`). */
  send(event: string, data?: unknown): void;
  /** Ends the session: BYE session_closed; the client reports a gap. */
  close(reason?: string): void;
}

/** A running HTTP server made by {@link Wirehop.listen}. */
export interface ListeningServer {
  port: number;
  /** URL of wirehop's base path on this server, e.g. 'http://127.0.0.1:3000/wirehop': a client's `url`. */
  url: string;
  server: HttpServer;
  /**
   * Stops accepting connections, closes wirehop (see {@link Wirehop.close}), then closes the HTTP
   * server, including idle keep-alive connections. The way to stop a node of several.
   */
  close(): Promise<void>;
}

/** The server: routes, upgrade handler, channels, handlers and sessions. */
export interface Wirehop<U extends UserBase = UserBase> {
  readonly path: string;
  /** Hono app with the routes relative to `path`. Use mount(). */
  readonly app: Hono;
  /** app.route(path, this.app) */
  mount(app: Hono): void;
  /** Wires WebSocket upgrades for `${path}/ws` onto a Node http/https server. Other upgrade paths are left alone. */
  attach(server: UpgradableServer): void;
  /** One call: a Node HTTP server with wirehop (and optionally the user's Hono app) on it. */
  listen(options?: { port?: number; hostname?: string; app?: Hono }): Promise<ListeningServer>;
  /** pattern: exact, or '*' globs ('room:*'); first registered match wins; no match → subscribe refused 'forbidden'. */
  channel(pattern: string, config?: ChannelConfig<U>): this;
  /**
   * Return value (or promise) → reply; throw → replyError (WirehopError keeps its code/message;
   * other errors → 'handler_error' with a generic message).
   */
  onRequest(method: string, handler: (data: unknown, session: Session<U>) => unknown): this;
  /** client.send(); unknown event → onError, nothing sent back. */
  onMessage(event: string, handler: (data: unknown, session: Session<U>) => void | Promise<void>): this;
  on(event: 'session', listener: (session: Session<U>) => void): this;
  on(event: 'close', listener: (session: Session<U>, reason: { code: string; message: string }) => void): this;
  on(event: 'subscribe' | 'unsubscribe', listener: (session: Session<U>, channel: string) => void): this;
  /**
   * Publishes to every subscriber of the channel, on every transport and every node. Resolves with
   * the publication's position once the broker stored it (with the in-memory broker, local
   * subscribers have it queued before this returns). Throws WirehopError at once for an invalid
   * name, non-JSON data or a frame over maxMessageBytes; rejects with `broker_unavailable` when the
   * broker cannot take it — then nothing was published. A rejection is also reported to `onError`,
   * so a publish nobody awaits never fails silently.
   */
  publish(channel: string, event: string, data?: unknown): Promise<StreamPosition>;
  /** Members present in a channel, one per user, across every node. */
  presence(channel: string): Promise<Member[]>;
  /** Publications held in the channel's history after `since` (the oldest held when absent), at most `limit` (default 100). */
  history(channel: string, options?: { since?: StreamPosition; limit?: number }): Promise<HistoryResult>;
  /** Resolves once the broker is connected; `listen()` waits for it too. Rejects if it could not start. */
  ready(): Promise<void>;
  session(id: string): Session<U> | undefined;
  readonly sessionCount: number;
  /** EventSource channel streams open (or being opened) on this server; they are not sessions. */
  readonly eventStreamCount: number;
  /**
   * Closes wirehop: everything new is refused; with a distributed broker the sessions move to
   * other nodes first (`drainMs`); those still here end with BYE server_closing; transports and
   * timers close, then the broker. The HTTP server stays: {@link ListeningServer.close} closes
   * both, and stops accepting connections first, so that a balancer sends the resumes elsewhere.
   */
  close(): Promise<void>;
}
