/**
 * Public types of @wirehop/client: options, state, and the Schema helpers that type channels,
 * messages and requests from one declaration. Types only: nothing here exists at runtime.
 */
import type { Json, Member, WirehopError } from '@wirehop/protocol';

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
  /** Tried in order when a transport cannot connect; one entry forces it. Default `['websocket', 'sse']`. */
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
  /** Ack after this many unacked server frames. Default `Defaults.ackEvery` (32). */
  ackEvery?: number;
  /** ...or this long after the first unacked one. Default `Defaults.ackDelayMs` (50). */
  ackDelayMs?: number;
  /** Client PING period, for RTT (and liveness on SSE); never above the server's. Default: WELCOME.heartbeatMs. */
  heartbeatMs?: number;
}

/** A snapshot: `client.stats` returns a new object each time. */
export interface ClientStats {
  /** Smoothed round-trip time in ms (EWMA of PING/PONG), null before the first sample. */
  rtt: number | null;
  /** Messages queued or sent but not yet acked. */
  queued: number;
  /** Successful reconnections (resumes and new sessions after the first connection). */
  reconnects: number;
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
  /** The same object for the same name. Throws WirehopError('bad_frame') for an invalid name. */
  channel<N extends string>(name: N): Channel<ChannelEvents<S, N>>;
  request<M extends string>(method: M, data?: RequestParams<S, M>, opts?: { timeoutMs?: number }): Promise<RequestResult<S, M>>;
  /** Resolves when the server acked it (it was handed to the server's handlers exactly once). */
  send<E extends string>(event: E, data?: MessageData<S, E>): Promise<void>;
  on(event: 'state', listener: (e: { from: ClientState; to: ClientState; reason: string }) => void): () => void;
  on(event: 'transport', listener: (e: { from: TransportName | null; to: TransportName | null; reason: string }) => void): () => void;
  on(event: 'error', listener: (error: WirehopError) => void): () => void;
  on(event: 'gap', listener: (e: GapInfo) => void): () => void;
  on(event: 'message', listener: (event: string, data: unknown) => void): () => void;
}
