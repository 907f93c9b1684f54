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
   * What may go right behind the HELLO, before WELCOME. SSE asks for it for a new session's
   * POST /session body (protocol.md §5) and sends those that fit in maxMessageBytes; the server
   * applies them once it created the session.
   */
  early?: () => string[];
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
   * WebSocket: the socket is open and `send` works. With a HELLO, what is sent during this call
   * goes into the HELLO's message (as far as maxMessageBytes allows), which leaves once it returns.
   */
  open?(): void;
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
