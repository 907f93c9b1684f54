/**
 * The frames of the wirehop protocol, as data. See docs/protocol.md for the wire format.
 *
 * On the wire every frame is a JSON array whose first element is a numeric type code. Reliable
 * frames carry their sender's per-session sequence number second; control frames carry none and
 * are never replayed.
 */

/** Protocol version spoken by this package; sent in HELLO and echoed in WELCOME. */
export const PROTOCOL_VERSION = 1;

/** Numeric type codes, as they appear first in every encoded frame. */
export const FrameCode = {
  // client → server, reliable (carry the client's sequence number)
  subscribe: 1,
  unsubscribe: 2,
  publish: 3,
  send: 4,
  request: 5,
  presence: 6,
  history: 7,
  // server → client, reliable (carry the server's sequence number)
  event: 10,
  message: 11,
  reply: 12,
  replyError: 13,
  join: 14,
  leave: 15,
  gap: 16,
  // control, unsequenced, never replayed
  ack: 20,
  ping: 21,
  pong: 22,
  error: 23,
  hello: 24,
  welcome: 25,
  bye: 26,
} as const;

export type FrameCode = (typeof FrameCode)[keyof typeof FrameCode];

/** Any JSON value: what `data` may hold. `undefined` is sent as `null`. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A place in a channel's stream of publications: offsets count 1, 2, 3 … within an epoch, and
 * `offset` is the last one delivered (0: none). A new epoch means the history before it is gone.
 */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

/** A presence member: one user, however many sessions (tabs) it has in the channel. */
export interface Member {
  id: string;
  info?: Json;
}

// ---- client → server, reliable -------------------------------------------------------------

/** `since`: resume the channel after this position (publications missed meanwhile come first, or a GAP). */
export interface SubscribeFrame { type: 'subscribe'; seq: number; channel: string; since?: StreamPosition }
export interface UnsubscribeFrame { type: 'unsubscribe'; seq: number; channel: string }
export interface PublishFrame { type: 'publish'; seq: number; channel: string; event: string; data: unknown }
/** A fire-and-forget message to the server's handlers; delivered exactly once, never answered. */
export interface SendFrame { type: 'send'; seq: number; event: string; data: unknown }
export interface RequestFrame { type: 'request'; seq: number; method: string; data: unknown }
export interface PresenceFrame { type: 'presence'; seq: number; channel: string }
/** Publications kept in the channel's history after `since` (null: the oldest held), at most `limit`. */
export interface HistoryFrame { type: 'history'; seq: number; channel: string; since: StreamPosition | null; limit: number }

export type ClientReliableFrame =
  | SubscribeFrame
  | UnsubscribeFrame
  | PublishFrame
  | SendFrame
  | RequestFrame
  | PresenceFrame
  | HistoryFrame;

// ---- server → client, reliable -------------------------------------------------------------

/** `offset`: the publication's place in the channel's stream (see StreamPosition). */
export interface EventFrame { type: 'event'; seq: number; channel: string; event: string; data: unknown; offset: number }
export interface MessageFrame { type: 'message'; seq: number; event: string; data: unknown }
/** Success answer to the client frame whose sequence number is `re`. */
export interface ReplyFrame { type: 'reply'; seq: number; re: number; data: unknown }
/** Failure answer to the client frame whose sequence number is `re`. */
export interface ReplyErrorFrame { type: 'replyError'; seq: number; re: number; code: string; message: string }
export interface JoinFrame { type: 'join'; seq: number; channel: string; member: Member }
export interface LeaveFrame { type: 'leave'; seq: number; channel: string; member: Member }

/**
 * Publications on `channel` up to `position` will never be delivered (history did not reach back
 * far enough, or was lost); delivery continues after `position`.
 */
export interface GapFrame { type: 'gap'; seq: number; channel: string; code: string; message: string; position: StreamPosition }

export type ServerReliableFrame = EventFrame | MessageFrame | ReplyFrame | ReplyErrorFrame | JoinFrame | LeaveFrame | GapFrame;

// ---- control, both directions --------------------------------------------------------------

/** Cumulative: every reliable frame with seq ≤ `ack` was received and will never be needed again. */
export interface AckFrame { type: 'ack'; ack: number }
/** `n` is opaque to the receiver, which echoes it in PONG (senders use a timestamp). */
export interface PingFrame { type: 'ping'; n: number }
export interface PongFrame { type: 'pong'; n: number }
/**
 * A connection-level protocol error; the sender closes the connection after it. `retryMs`: wait at
 * least this long before trying again (server_busy).
 */
export interface ErrorFrame { type: 'error'; code: string; message: string; retryMs?: number }

/** First frame from the client on a WebSocket; the body of `POST {path}/session`. */
export interface HelloFrame {
  type: 'hello';
  v: number;
  /** Application credentials passed to the server's `authenticate` hook (new sessions only). */
  auth?: Json;
  /** Resume: the session id to attach to. Requires `token`. */
  sid?: string;
  /** Resume: the secret resume token issued in WELCOME. */
  token?: string;
  /** Resume: the last server sequence number the client delivered in order. */
  ack?: number;
}

export interface WelcomeFrame {
  type: 'welcome';
  v: number;
  sid: string;
  /** Issued once, when the session is created; absent on resume. Never put it in a URL. */
  token?: string;
  resumed: boolean;
  /** The last client sequence number the server has accepted: resend everything after it. */
  ack: number;
  /** The server's heartbeat period; the link is dead after `heartbeatMs + heartbeatTimeoutMs` of silence. */
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  /** How long the session outlives its last transport. */
  sessionTtlMs: number;
  /** Largest encoded frame either side may send. */
  maxMessageBytes: number;
  /**
   * The server reads up to this many client frames from one WebSocket message, separated by `\n`,
   * maxMessageBytes in all (its maxBatchFrames; protocol.md §4). Absent: one frame per message.
   */
  batch?: number;
  /**
   * The client may have this many POST /send bodies in flight at once; the server applies them in
   * sequence order (its limits.postsInFlight; protocol.md §5). Absent: one at a time.
   */
  posts?: number;
  /**
   * Milliseconds between the server reading the HELLO and writing this WELCOME (authenticate(), a
   * handoff from another node): what a client subtracts when it times HELLO → WELCOME as a round
   * trip (protocol.md §5, "Probe"). Absent from older servers.
   */
  held?: number;
  /**
   * The server's replay buffer (its limits.replayBufferFrames and replayBufferBytes): unacked
   * frames beyond either end the session with replay_overflow, so the client acks well before
   * (protocol.md §4, "Acks"). Sizes count frame text in UTF-16 code units. Absent from older
   * servers: a client then assumes the defaults.
   */
  replayFrames?: number;
  replayBytes?: number;
}

/**
 * The session is over and cannot be resumed. `ack` is the last client sequence number the server
 * accepted, so the client knows exactly which of its messages were processed.
 */
export interface ByeFrame { type: 'bye'; code: string; message: string; ack: number }

export type ControlFrame = AckFrame | PingFrame | PongFrame | ErrorFrame;

/** Every frame a client may send. */
export type ClientFrame = ClientReliableFrame | AckFrame | PingFrame | PongFrame | HelloFrame;
/** Every frame a server may send. */
export type ServerFrame = ServerReliableFrame | ControlFrame | WelcomeFrame | ByeFrame;
export type Frame = ClientFrame | ServerFrame;

/** Name of a frame type, e.g. `'publish'`. */
export type FrameType = Frame['type'];
