/**
 * The one interface every transport implements. A transport is a pipe for one attempt: it opens,
 * does its handshake (HELLO → WELCOME; a WebSocket the client tests first carries PING → PONG
 * before), then carries encoded frames up and decoded frames down until it fails or is closed. It
 * knows nothing of sequence numbers, acks or replays: the session does.
 *
 * Nothing here assumes a single transport: the client binds each one to its own handlers (and
 * generation), so a second transport can resume the same session while the first is still up
 * (make-before-break) and both may deliver the same frames, which the session drops as duplicates.
 */
import { WirehopError, utf8Length, type HelloFrame, type ServerFrame } from '@wirehop/protocol';
import type { Http } from '../http.js';
import type { WebSocketLikeConstructor } from '../types.js';

/** What a transport needs for one attempt. */
export interface TransportOptions {
  /** http(s) base URL of the wirehop path, without a trailing slash. */
  url: string;
  /**
   * New session (`auth`) or resume (`sid`, `token`, `ack`); SSE needs it. A WebSocket opened
   * without it sends nothing and calls `handlers.open`: the client first tests that the socket
   * carries traffic (PING before HELLO, protocol.md §4), then sends HELLO itself.
   */
  hello?: HelloFrame;
  /**
   * SSE, a new session: what goes behind the HELLO in the POST /session body (protocol.md §5), as
   * many as fit `bytes` (a newline after each): the body's room once the HELLO is in. The server
   * applies them as it creates the session, and the stream's WELCOME.ack counts what it applied.
   * What is taken counts as sent (Session.sent), so all of it must go.
   */
  early?: (bytes: number) => string[];
  /** Extra headers for HTTP requests (and WebSocket where the constructor takes them). */
  headers: Record<string, string>;
  WebSocket: WebSocketLikeConstructor | undefined;
  http: Http;
  /** Bound for one incoming event, against a peer that never ends one. */
  maxMessageBytes: number;
}

/** How a transport reports to the client (bound to one attempt's generation). */
export interface TransportHandlers {
  /**
   * Every decoded server frame in arrival order; WELCOME once the session is attached. `size`: its
   * text length, which is how the server counts it in its replay buffer.
   */
  frame(frame: ServerFrame, size: number): void;
  /** Bytes arrived on the downstream (frames, heartbeat comments): liveness for the watchdog. */
  alive(): void;
  /** The transport failed. Called at most once, never after close(). */
  close(error: WirehopError): void;
  /**
   * The transport can carry frames behind its HELLO: what is sent during this call goes with it,
   * all of it, before WELCOME (protocol.md §4, §5), and WELCOME.ack need not count it yet.
   * WebSocket: the socket is open, and those frames go in the HELLO's message as far as
   * maxMessageBytes allows, the rest right behind it. SSE, resuming a session: they go in a
   * POST /send beside the GET /sse (a new session's go in its POST /session body: `early`).
   * Without a HELLO (a WebSocket the client tests first): the socket is open and `send` works.
   */
  open?(): void;
  /**
   * Before WELCOME, the server refused what went behind the HELLO: it applied none of it, or only
   * the frames up to `ack`. Those may be sent again in another session. Called before the refusal
   * itself arrives (handlers.frame or close), and only when frames did go behind the HELLO.
   */
  unsent?(ack?: number): void;
  /**
   * SSE: POST /session created session `sid` with frames of `early` in its body. The server may
   * have processed them, so the session is the client's from now on, stream or not: a retry must
   * resume it (a new session would process them again), and its end is a gap.
   */
  claim?(sid: string, token: string): void;
}

/** One open (or opening) transport. */
export interface Transport {
  /**
   * Sends encoded frames upstream, in order. Dropped once failed or closed (the outbox resends).
   * @param control only control frames (ACK, PING, PONG): nothing waits on them, so SSE lets them
   *   wait for a POST in flight rather than start another.
   */
  send(frames: string[], control?: boolean): void;
  /**
   * Closes sockets and aborts requests; no handler is called afterwards.
   * @param error why the client drops this transport to resume the session elsewhere. Without one,
   *   the client is closing for good and the transport tells the server to end the session
   *   (WebSocket: close code 1000; SSE: `DELETE {path}/session`, see sse.ts).
   */
  close(error?: WirehopError): void;
}

/** Creates and starts a transport; failures arrive through `handlers.close`, never as throws. */
export type TransportFactory = (options: TransportOptions, handlers: TransportHandlers) => Transport;

/** Any thrown value as a WirehopError (network errors become `transport_failed`). */
export function asWirehopError(error: unknown, code = 'transport_failed'): WirehopError {
  return error instanceof WirehopError ? error : new WirehopError(code, String((error as Error | undefined)?.message ?? error), { error });
}

/**
 * Takes from `queue` the longest prefix that fits one batch (a POST body, or a WebSocket message
 * under WELCOME.batch): at most `maxFrames` frames and `maxBytes` of UTF-8 with a newline after
 * each. Always at least one frame: the client checked each against maxMessageBytes already.
 */
export function takeBatch(queue: string[], maxFrames: number, maxBytes: number): string[] {
  let bytes = 0;
  let n = 0;
  while (n < queue.length && n < maxFrames) {
    const size = utf8Length(queue[n]!) + 1;
    if (n > 0 && bytes + size > maxBytes) break;
    bytes += size;
    n++;
  }
  return queue.splice(0, n);
}
