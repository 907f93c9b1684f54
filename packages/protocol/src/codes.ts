/**
 * Stable error codes. Every error a peer can observe, in a reply, an ERROR or BYE frame, an HTTP
 * error body or a WebSocket close, carries one of these codes. The strings never change meaning;
 * new codes may be added. docs/protocol.md lists them with the same text.
 */

export interface CodeInfo {
  /** HTTP status used when the error answers an HTTP request. */
  status: number;
  /** WebSocket close code used when the error ends a WebSocket connection (4000–4999 are ours). */
  close: number;
  /** True when the session is gone: the client must start a new one and signal a gap. */
  endsSession: boolean;
  /**
   * A refusal for the server's own state (shutting down while others take over, or full), not the
   * transport's: the client tries the same transport again, after `retryMs` when the error has one,
   * and counts nothing against the transport.
   */
  sameTransport?: true;
}

export const ErrorCodes = {
  // malformed or forbidden input
  bad_frame: { status: 400, close: 4400, endsSession: false },
  unknown_frame: { status: 400, close: 4400, endsSession: false },
  bad_request: { status: 400, close: 4400, endsSession: false },
  unsupported_version: { status: 400, close: 4400, endsSession: false },
  out_of_order: { status: 409, close: 4409, endsSession: false },
  bad_ack: { status: 400, close: 4400, endsSession: false },
  message_too_large: { status: 413, close: 4413, endsSession: false },
  body_too_large: { status: 413, close: 4413, endsSession: false },
  hello_timeout: { status: 408, close: 4408, endsSession: false },
  // who may do what
  unauthorized: { status: 401, close: 4401, endsSession: false },
  forbidden_origin: { status: 403, close: 4403, endsSession: false },
  forbidden: { status: 403, close: 4403, endsSession: false },
  // sessions
  session_unknown: { status: 404, close: 4404, endsSession: true },
  session_expired: { status: 410, close: 4410, endsSession: true },
  replay_overflow: { status: 410, close: 4429, endsSession: true },
  replay_unavailable: { status: 410, close: 4410, endsSession: true },
  session_closed: { status: 410, close: 4000, endsSession: true },
  server_closing: { status: 503, close: 4503, endsSession: true },
  server_draining: { status: 503, close: 4003, endsSession: false, sameTransport: true },
  superseded: { status: 409, close: 4001, endsSession: false },
  heartbeat_timeout: { status: 408, close: 4002, endsSession: false },
  broker_unavailable: { status: 503, close: 4503, endsSession: false },
  history_unavailable: { status: 410, close: 4410, endsSession: false },
  server_busy: { status: 503, close: 4503, endsSession: false, sameTransport: true },
  too_many_sessions: { status: 429, close: 4429, endsSession: false, sameTransport: true },
  // application
  no_handler: { status: 404, close: 4404, endsSession: false },
  handler_error: { status: 500, close: 4500, endsSession: false },
  not_subscribed: { status: 409, close: 4409, endsSession: false },
  too_many_subscriptions: { status: 429, close: 4429, endsSession: false },
  // client-side only (never on the wire, but part of the same vocabulary)
  timeout: { status: 408, close: 4408, endsSession: false },
  queue_full: { status: 429, close: 4429, endsSession: false },
  session_lost: { status: 410, close: 4410, endsSession: true },
  client_closed: { status: 499, close: 1000, endsSession: true },
  transport_failed: { status: 502, close: 4502, endsSession: false },
  internal: { status: 500, close: 4500, endsSession: false },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ErrorCodes;

/**
 * What each code means, in one sentence: the server's default message when it refuses or ends
 * something. A table of its own, not a field of {@link ErrorCodes}: a browser client needs the codes
 * but not these sentences, and leaves the table out of its bundle.
 */
export const ErrorMeanings: Readonly<Record<ErrorCode, string>> = {
  // malformed or forbidden input
  bad_frame: 'The frame is not valid JSON or not a valid wirehop frame.',
  unknown_frame: 'The frame type code is not one this peer accepts.',
  bad_request: 'The HTTP request is missing a required header or has the wrong method or content.',
  unsupported_version: 'HELLO asked for a protocol version this server does not speak.',
  out_of_order: 'A reliable frame skipped a sequence number; the client must resume and resend.',
  bad_ack: 'An ack named a sequence number that was never sent.',
  message_too_large: 'A frame is larger than maxMessageBytes.',
  body_too_large: 'A POST body is larger than maxBatchBytes or holds more than maxBatchFrames frames.',
  hello_timeout: 'No HELLO frame arrived on a new WebSocket within helloTimeoutMs.',
  // who may do what
  unauthorized: 'Authentication failed, or the resume token does not match the session.',
  forbidden_origin: 'The Origin header is not in the allow-list.',
  forbidden: 'The channel authorizer or publish hook refused this operation.',
  // sessions
  session_unknown: 'No session has this id (never existed, or forgotten long ago).',
  session_expired: 'The session outlived its TTL with no transport attached and was closed.',
  replay_overflow: 'Unacknowledged events outgrew the replay buffer (slow or absent reader); events after the last ack may be lost.',
  replay_unavailable: 'The client asked to resume from a point the server no longer holds.',
  session_closed: 'The server application closed the session.',
  server_closing: 'The server is shutting down.',
  server_draining: 'The server is shutting down and hands its sessions to the other servers: resume the session, there.',
  superseded: 'Another transport attached to this session; this one is no longer used.',
  heartbeat_timeout: 'Nothing was heard from the peer within heartbeatMs + heartbeatTimeoutMs.',
  broker_unavailable: 'The broker connecting the server nodes (e.g. Redis) is unreachable; the operation was not carried out.',
  history_unavailable: "A channel's publications could not be delivered: its history no longer holds them, or they were more than a session could take at once (a GAP frame).",
  server_busy: 'The server opens no new session now (it holds maxSessions, or its event loop runs late): retry after the retryMs it says.',
  too_many_sessions: 'The user already has maxSessionsPerUser sessions on this server: end one first.',
  // application
  no_handler: 'No request handler is registered for this method.',
  handler_error: 'The application handler threw; the message says what it chose to expose.',
  not_subscribed: 'The operation needs a subscription the session does not have.',
  too_many_subscriptions: 'The session already holds limits.maxSubscriptions channels: unsubscribe from one first.',
  // client-side only (never on the wire, but part of the same vocabulary)
  timeout: 'A request got no reply within its timeout (client side).',
  queue_full: 'The client outbox is at maxQueue; the message was not queued (client side).',
  session_lost: 'The session ended and the server could not say whether this message was processed (client side).',
  client_closed: 'The client was closed before the operation completed (client side).',
  transport_failed: 'A transport could not be opened or failed (client side).',
  internal: 'An unexpected server error; other sessions are unaffected.',
};

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ErrorCodes, code);
}

/** Maps a WebSocket close code back to the error code that produced it, or undefined. */
export function codeForClose(close: number): ErrorCode | undefined {
  // Several codes share 4400/4409/4413; the first listed is the canonical one for that close code.
  for (const [code, info] of Object.entries(ErrorCodes)) if (info.close === close) return code as ErrorCode;
  return undefined;
}

/**
 * The error type both packages throw and reject with. `code` is stable; `message` is for humans
 * (the code itself when none is given).
 */
export class WirehopError extends Error {
  override readonly name = 'WirehopError';
  constructor(
    readonly code: ErrorCode | (string & {}),
    message?: string,
    /** Extra machine-readable detail, e.g. the HTTP status or the limit that was hit. */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message ?? code);
  }
}
