/**
 * Default limits and timings shared by server and client. Every one is an option on the side that
 * enforces it; docs/guide.md lists them with what happens when each is reached.
 */
export const Defaults = {
  /** Largest encoded frame, in bytes (UTF-8). Enforced before buffering on every transport. */
  maxMessageBytes: 64 * 1024,
  /** Largest POST body, in bytes. */
  maxBatchBytes: 1024 * 1024,
  /** Most frames in one POST body. */
  maxBatchFrames: 1024,
  /** Longest channel name, in characters. */
  maxChannelLength: 256,
  /** Longest event or method name, in characters. */
  maxNameLength: 128,
  /** Heartbeat period: WebSocket PING frames and SSE comment lines. */
  heartbeatMs: 15_000,
  /** Extra silence tolerated after a missed heartbeat before a link is declared dead. */
  heartbeatTimeoutMs: 10_000,
  /** How long a session outlives its last transport. */
  sessionTtlMs: 30_000,
  /** Most unacknowledged server→client frames kept per session for replay. */
  replayBufferFrames: 10_000,
  /** Most bytes of unacknowledged server→client frames kept per session for replay. */
  replayBufferBytes: 1024 * 1024,
  /** A transport's write buffer above this many bytes stops receiving frames until it drains. */
  highWaterMarkBytes: 256 * 1024,
  /** Time a new WebSocket has to send HELLO. */
  helloTimeoutMs: 10_000,
  /** Client outbox: most messages queued or awaiting ack. */
  maxQueue: 1_000,
  /** Receiver acks after this many unacked reliable frames... */
  ackEvery: 32,
  /** ...or this long after the first unacked one, whichever comes first. */
  ackDelayMs: 50,
  /** Client request timeout. */
  requestTimeoutMs: 10_000,
  /** SSE `retry:` hint for plain EventSource readers, in ms. */
  sseRetryMs: 1_000,
} as const;

export type Limits = typeof Defaults;

/**
 * Most frames a client sends right behind HELLO, one per message, before WELCOME has said what the
 * server has (protocol.md §4). A server holds at least this many: its `maxEarlyMessages` cannot be lower.
 */
export const PIPELINED_FRAMES = 64;

/** URL paths under the server's base path. */
export const Paths = {
  websocket: '/ws',
  sse: '/sse',
  send: '/send',
  session: '/session',
  ping: '/ping',
} as const;

/** HTTP headers of the SSE+POST transport. Lower-case, as Node exposes them. */
export const Headers = {
  /** Session id on `GET /sse` and `POST /send`. */
  session: 'x-wirehop-session',
  /** Resume token on `GET /sse` and `POST /send`. Headers, never the URL: URLs end up in logs. */
  token: 'x-wirehop-token',
  /** Standard SSE resume header: the last server sequence number delivered. */
  lastEventId: 'last-event-id',
} as const;

/** Media type of POST bodies and answers: one encoded frame per line. */
export const NDJSON = 'application/x-ndjson';
