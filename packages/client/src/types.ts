/**
 * Public types of @wirehop/client: options, state, and the Schema helpers that type channels,
 * messages and requests from one declaration. Types only: nothing here exists at runtime.
 */
import type { Json, Member, StreamPosition, WirehopError } from '@wirehop/protocol';

/** The two transports; `websocket` carries both directions, `sse` is SSE down + HTTP POST up. */
export type TransportName = 'websocket' | 'sse';

/**
 * `idle` before connect(); `connecting` until the first session is up; `connected` while a transport
 * carries the session; `reconnecting` after a drop (resume or new session); `closed` after close().
 */
export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Event names to payload types, e.g. `{ message: { text: string } }`. */
export type EventMap = Record<string, unknown>;

/**
 * What an application declares once to type everything:
 * @example
 * type Chat = {
 *   channels: { [name: `room:${string}`]: { message: { text: string } } };
 *   messages: { notice: { text: string } };
 *   requests: { history: { params: { room: string }; result: string[] } };
 * };
 * const client = createClient<Chat>({ url });
 */
export interface Schema {
  channels?: Record<string, EventMap>;
  messages?: EventMap;
  requests?: Record<string, { params: unknown; result: unknown }>;
}

/** Events of channel `N` (template-literal keys match), or untyped events for undeclared names. */
export type ChannelEvents<S extends Schema, N extends string> = S extends { channels: infer C }
  ? N extends keyof C
    ? C[N] extends infer E extends EventMap ? E : EventMap
    : EventMap
  : EventMap;

/** Payload of server/client message `E`; `unknown` when undeclared. */
export type MessageData<S extends Schema, E extends string> = S extends { messages: infer M } ? (E extends keyof M ? M[E] : unknown) : unknown;

/** Parameters of request `M`; `unknown` when undeclared. */
export type RequestParams<S extends Schema, M extends string> = S extends { requests: infer R }
  ? M extends keyof R ? (R[M] extends { params: infer P } ? P : unknown) : unknown
  : unknown;

/** Result of request `M`; `unknown` when undeclared. */
export type RequestResult<S extends Schema, M extends string> = S extends { requests: infer R }
  ? M extends keyof R ? (R[M] extends { result: infer T } ? T : unknown) : unknown
  : unknown;

/**
 * The part of a WebSocket the client uses: the browser's `WebSocket`, `ws`, and Node ≥ 22's global
 * all fit. Handlers are typed loosely (`never` parameters) so that each library's own event types
 * are accepted.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * A WebSocket constructor. The client calls `new WebSocket(url)`, or `new WebSocket(url, { headers })`
 * when `headers` are set (what `ws` accepts; browsers cannot send headers on a WebSocket).
 */
export type WebSocketLikeConstructor = new (url: string, options?: never) => WebSocketLike;

/** Options of {@link createClient}. Every limit and timing has a default. */
export interface ClientOptions {
  /** http(s) URL of the server's wirehop path, e.g. `'http://127.0.0.1:3000/wirehop'`. */
  url: string;
  /** Tried in order when a transport cannot connect; one entry forces it (and turns adaptive switching off). Default `['websocket', 'sse']`. */
  transports?: TransportName[];
  /** Sent in HELLO when a session is created (never on resume). A function is called per new session. */
  auth?: Json | (() => Json | Promise<Json>);
  /**
   * Extra headers on every HTTP request (SSE, POST). On WebSocket only where the constructor takes
   * them (`ws` in Node); browsers cannot set WebSocket headers, so don't combine them there: the
   * constructor throws and the client moves on to the next transport. Use `auth` instead.
   */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** Default `globalThis.WebSocket` (Node entry: `ws` when there is no global). */
  WebSocket?: WebSocketLikeConstructor;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /**
   * Cookies on the HTTP requests (SSE, POST, probe). Default `'include'`, so cookie authentication
   * works cross-origin against a server with `cors.credentials` true (its default). Use
   * `'same-origin'` against a cross-origin server configured with `cors: { credentials: false }`:
   * browsers refuse credentialed requests to a server that answers `Access-Control-Allow-Origin: *`.
   */
  credentials?: RequestCredentials;
  /** Connect on creation (after the current tick, so listeners can be attached). Default true. */
  autoConnect?: boolean;
  /** Most messages queued or awaiting ack; beyond it calls reject with `queue_full`. Default `Defaults.maxQueue` (1,000). */
  maxQueue?: number;
  /** Largest encoded frame until the server's WELCOME says otherwise. Default `Defaults.maxMessageBytes` (64 KiB). */
  maxMessageBytes?: number;
  /** Reply timeout of request() and presence(); 0 disables. Default `Defaults.requestTimeoutMs` (10 s). */
  requestTimeoutMs?: number;
  /** Per attempt: a transport that has no WELCOME by then has failed. Default 10,000. */
  connectTimeoutMs?: number;
  /** Reconnect delay: capped exponential with full jitter. Defaults 250 and 10,000 ms. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * Ack after this many unacked server frames. Default `Defaults.ackEvery` (32). On SSE, where an
   * ack is an HTTP request, 8× as many, or with the next message once this many wait.
   */
  ackEvery?: number;
  /** ...or this long after the first unacked one, plus up to half again at random. Default 250 (the server's 50 decides how soon a send resolves; these acks only free its replay buffer). On SSE 8× as long. */
  ackDelayMs?: number;
  /** Client PING period, for RTT (and liveness on SSE); never above the server's. Default: WELCOME.heartbeatMs (with adaptive switching: `sampleIntervalMs`). */
  heartbeatMs?: number;
  /**
   * SSE streams one origin's browser tabs may hold open at once to this server over HTTP/1.1, where
   * a browser has about 6 connections per host and each open stream holds one (the rest go to the
   * POSTs). Tabs share the slots through Web Locks; a client that finds none free emits an 'error'
   * with code `tab_limit` (client side) and tries WebSocket if it may, else waits until another tab
   * gives one back, without timing out. Not needed over HTTP/2 or HTTP/3 (one connection carries
   * every stream), which the client finds out from Resource Timing; cross-origin that needs the
   * server's `Timing-Allow-Origin` (wirehop servers send it). Only in browser pages with Web Locks
   * and Resource Timing. `0` or `Infinity` turns the slots off. Default 4.
   */
  sseTabSlots?: number;
  /**
   * Adaptive switching: measure the network and move the live session to SSE on a weak link (or
   * where WebSocket is blocked) and back to WebSocket on a strong one. On by default when
   * `transports` lists both; `false` turns it off (the client then only falls back when a transport
   * cannot connect, and resumes on the transport it was on).
   */
  adaptive?: false | AdaptiveOptions;
}

/**
 * Options of adaptive switching; every one has a default.
 * @example
 * createClient({ url, adaptive: { maxRttMs: 500, upgradeAfterMs: 30_000, probe: false } });
 */
export interface AdaptiveOptions {
  /** Bad network: median RTT above this (ms)... Default 300. */
  maxRttMs?: number;
  /** ...or loss above this fraction. Default 0.2. */
  maxLoss?: number;
  /** Downgrade to SSE once bad continuously this long. Default 3,000. */
  downgradeAfterMs?: number;
  /** Upgrade to WebSocket once good continuously this long. Default 10,000. */
  upgradeAfterMs?: number;
  /**
   * Minimum time between two switches the policy makes (a manual switch counts as the last one,
   * but is never held back itself). Whatever the policy, the client also never makes an automatic
   * switch within a minute of the switch before the last: at most two a minute. Default 5,000.
   */
  minDwellMs?: number;
  /** Quality PING period on the active transport. Default 1,000. */
  sampleIntervalMs?: number;
  /**
   * Quality PING period once the link has said the same for a whole `windowMs`, with nothing in it
   * for the policy to act on: good on WebSocket; on SSE bad, or anything while WebSocket is
   * unusable here. A PING is traffic and, on SSE, an HTTP request: a steady link need not be
   * measured every second. The first sample that disagrees brings `sampleIntervalMs` back, and the
   * window holds at least as many samples as at that pace (`windowMs / sampleIntervalMs`), so one
   * lost PING weighs no more than it would there. A degrading link is noticed up to
   * `steadySampleIntervalMs - sampleIntervalMs` later (4 s by default). Never above the server's
   * heartbeat period. Set it to `sampleIntervalMs` for one pace always (a custom `policy` that
   * reads more than RTT and loss may want that). Default 5,000.
   */
  steadySampleIntervalMs?: number;
  /** Samples older than this leave the window. Default 5,000. */
  windowMs?: number;
  /** A quality PING unanswered this long counts as lost. Also how long a WebSocket has to answer the PING that tests it before a switch. Default 1,000. */
  pingTimeoutMs?: number;
  /**
   * The probe: the first `count` RTT samples of a session (and again after the browser's `online`)
   * decide where it runs. No request goes before the first transport: the client connects on the
   * first of `transports`, PINGs as the session attaches and again as each answer (or loss) comes
   * in. The first sample moves the session at once if it points to the other transport (bad:
   * RTT > `maxRttMs` or lost → SSE; otherwise → WebSocket), and the whole count again if it
   * disagrees ('probe'). A first answer within `maxRttMs / 4` ends it there. `false` disables it
   * (the policy alone decides). Default `{ count: 3 }`.
   */
  probe?: false | { count?: number };
  /** A WebSocket attempt without WELCOME (or, for a switch, without an open socket) after this long is abandoned for the next transport. Default 1,500. */
  websocketTimeoutMs?: number;
  /** After WebSocket proved unusable, retry it in the background with capped exponential backoff. Defaults 5,000 and 60,000. */
  reprobe?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Replaces the decision function (pure: no clock, no IO). Default {@link defaultPolicy}. */
  policy?: TransportPolicy;
}

/** Windowed network estimate of the transport carrying the session, also in `client.stats`. */
export interface Quality {
  /** Median RTT of the window in ms; null without an answered PING in it. */
  rtt: number | null;
  /** Fraction of the window's PINGs without a PONG within `pingTimeoutMs`, 0..1 (0 without samples). */
  loss: number;
  /** Mean |Δrtt| of consecutive RTT samples in ms; null with fewer than two. */
  jitter: number | null;
  /** Samples in the window, answered or lost. */
  samples: number;
}

/** What a {@link TransportPolicy} decides from. Times are `Date.now()` milliseconds. */
export interface PolicyInput {
  now: number;
  /** The transport carrying the session. */
  current: TransportName;
  quality: Quality;
  /**
   * Since when the link has been bad (median RTT > maxRttMs or loss > maxLoss), backdated to the
   * departure of the first PING of the newest run of slow or lost ones; null while not bad.
   */
  badSince: number | null;
  /**
   * Since when it has been good, backdated the same way; null while not. Good is a band below the
   * thresholds: median RTT ≤ 0.8·maxRttMs and loss ≤ maxLoss/2. In between the link is neither,
   * so one that hovers at a threshold moves no streak forward.
   */
  goodSince: number | null;
  /** When the last switch (manual or automatic) completed; 0 before the first. */
  lastSwitchAt: number;
  /**
   * False once WebSocket proved unusable here (refused, stripped, silent, or blackholed while
   * carrying the session), until a background re-probe gets a PONG through one.
   */
  websocketUsable: boolean;
  /** The thresholds in effect (defaults filled in). */
  options: Required<Pick<AdaptiveOptions, 'maxRttMs' | 'maxLoss' | 'downgradeAfterMs' | 'upgradeAfterMs' | 'minDwellMs'>>;
}

/** Move the session to `to`; `reason` is the 'transport' event's. */
export interface PolicyDecision {
  to: TransportName;
  reason: string;
}

/**
 * Decides, after every quality sample, whether the session should move; null means stay. Pure: it
 * is called often and must not keep state of its own (the input carries the history that matters).
 * A move to WebSocket while `websocketUsable` is false is ignored (the client re-probes on its own).
 */
export type TransportPolicy = (input: PolicyInput) => PolicyDecision | null;

/** The 'transport' event: the session moved, attached or detached. */
export interface TransportChange {
  from: TransportName | null;
  to: TransportName | null;
  /**
   * 'session_created', 'session_resumed', 'fallback' (the preferred transport could not connect),
   * 'probe' (the probe's samples chose), 'degraded' and 'recovered' (the policy), 'manual'
   * (switchTransport), 'websocket_unusable' (resumed on SSE after WebSocket failed), or the error
   * code of a drop (to: null).
   */
  reason: string;
  /** The quality window at the time. */
  quality: Quality;
}

/** A snapshot: `client.stats` returns a new object each time. */
export interface ClientStats {
  /**
   * Round-trip time in ms: the median of the quality window, else the smoothed RTT (EWMA of PING/PONG);
   * null before the first sample. With adaptive switching the first PING goes when a transport
   * attaches; without it, one heartbeat period later.
   */
  rtt: number | null;
  /** Fraction of the window's PINGs that got no PONG in time (see {@link Quality}). */
  loss: number;
  /** Mean RTT variation in the window, ms; null with fewer than two samples. */
  jitter: number | null;
  /** Messages queued or sent but not yet acked. */
  queued: number;
  /** Successful reconnections (resumes and new sessions after the first connection). */
  reconnects: number;
  /** Completed switches of the live session to another transport (make-before-break, manual or automatic). */
  switches: number;
  transport: TransportName | null;
}

/** What 'gap' reports: the session ended; `resent` frames were re-queued, `lost` calls rejected with `session_lost`. */
export interface GapInfo {
  code: string;
  message: string;
  resent: number;
  lost: number;
}

/** A named channel: `client.channel(name)`. Events are typed by the client's Schema. */
export interface Channel<E extends EventMap = EventMap> {
  readonly name: string;
  /** True once the server confirmed the subscription (false again after unsubscribe or a gap until re-confirmed). */
  readonly subscribed: boolean;
  /** Queued while offline; re-sent automatically in a new session after a gap. Idempotent. */
  subscribe(): Promise<{ presence: boolean }>;
  unsubscribe(): Promise<void>;
  /** Resolves on the server's reply (rejects e.g. with `forbidden`). */
  publish<K extends keyof E & string>(event: K, data: E[K]): Promise<void>;
  on<K extends keyof E & string>(event: K, handler: (data: E[K]) => void): () => void;
  on(event: '*', handler: (event: string, data: unknown) => void): () => void;
  onPresence(kind: 'join' | 'leave', handler: (member: Member) => void): () => void;
  /** Current members (needs a presence channel); times out after `requestTimeoutMs`. */
  presence(): Promise<Member[]>;
  /**
   * How far this channel's publications were delivered (undefined until subscribed). After a lost
   * session the client re-subscribes from here, and the server sends what was missed from the
   * channel's history — or a gap (see {@link onGap}) where history no longer holds it.
   */
  readonly position: StreamPosition | undefined;
  /**
   * Publications kept in the channel's history after `since` (the oldest held when absent), at
   * most `limit` (default 100, at most 1000, and what fits in one frame: `more` says there is more).
   * Needs a subscription (rejects `not_subscribed`).
   */
  history(options?: { since?: StreamPosition; limit?: number }): Promise<ChannelHistory>;
  /**
   * Publications on this channel were not delivered and will not be: history did not reach back
   * far enough, or was lost, or a re-subscription had more to recover than half the session's replay
   * buffer holds (then `history()` may still read them). Delivery continues after `position`. The
   * application should reload its state.
   */
  onGap(handler: (gap: ChannelGap) => void): () => void;
}

/** What {@link Channel.onGap} reports. */
export interface ChannelGap {
  code: string;
  message: string;
  position: StreamPosition;
}

/** What {@link Channel.history} resolves with. */
export interface ChannelHistory {
  position: StreamPosition;
  publications: Array<{ offset: number; event: string; data: unknown }>;
  /** False if publications after `since` are no longer held. */
  complete: boolean;
  /** The page was cut (by `limit` or the frame size): ask again from the last offset. */
  more: boolean;
}

/** What createClient returns. Listeners never break the client: what they throw becomes an 'error' event. */
export interface WirehopClient<S extends Schema = Schema> {
  readonly state: ClientState;
  readonly transport: TransportName | null;
  readonly sessionId: string | null;
  readonly stats: ClientStats;
  /** Resolves when connected (idempotent); rejects with `client_closed` if closed first. Keeps retrying until then. */
  connect(): Promise<void>;
  /** Stops everything (no BYE): pending calls reject with `client_closed`; state 'closed'; no timers left. */
  close(): void;
  /**
   * Moves the live session to `to`, make-before-break: the new transport resumes the session while
   * the old one keeps delivering, and the application sees one ordered stream. Resolves once the
   * session runs on it (at once if it already does); waits for the connection if there is none.
   * Rejects with `transport_failed` if `to` cannot be opened (the session stays where it was), with
   * `superseded` if a later call asked for the other transport before this one started, and with
   * `client_closed`. One switch runs at a time: a call for where the running one is heading joins it.
   * A manual switch always proceeds; the adaptive policy then waits `minDwellMs` before its next
   * move. Throws (rejects) a TypeError for a transport not in `transports`.
   * @example
   * await client.switchTransport('sse');
   */
  switchTransport(to: TransportName): Promise<void>;
  /** The same object for the same name. Throws WirehopError('bad_frame') for an invalid name. */
  channel<N extends string>(name: N): Channel<ChannelEvents<S, N>>;
  request<M extends string>(method: M, data?: RequestParams<S, M>, opts?: { timeoutMs?: number }): Promise<RequestResult<S, M>>;
  /** Resolves when the server acked it (it was handed to the server's handlers exactly once). */
  send<E extends string>(event: E, data?: MessageData<S, E>): Promise<void>;
  on(event: 'state', listener: (e: { from: ClientState; to: ClientState; reason: string }) => void): () => void;
  on(event: 'transport', listener: (e: TransportChange) => void): () => void;
  on(event: 'error', listener: (error: WirehopError) => void): () => void;
  on(event: 'gap', listener: (e: GapInfo) => void): () => void;
  on(event: 'message', listener: (event: string, data: unknown) => void): () => void;
}
