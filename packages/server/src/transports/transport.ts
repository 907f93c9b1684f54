/**
 * The one interface between a session and whatever carries its frames to the client. The session
 * (sequence numbers, replay, backpressure policy, acks) lives in session.ts and knows nothing else
 * about transports; each transport is one small file implementing this.
 */

export type TransportName = 'websocket' | 'sse';

/** A server → client connection for one session. */
export interface Downstream {
  readonly kind: TransportName;
  /** False once the connection is closing or closed: writes are then dropped. */
  readonly open: boolean;
  /** Bytes accepted by write() that the socket has not flushed yet (for highWaterMarkBytes). */
  buffered(): number;
  /**
   * Writes one encoded frame. `id` is the highest reliable sequence number written to this
   * session's client so far (SSE puts it in `id:` so Last-Event-ID is exactly the resume point).
   */
  write(encodedFrame: string, id: number): void;
  /** Keep-alive: a PING frame on WebSocket, a comment line on SSE. */
  heartbeat(now: number): void;
  /** Calls `resume` once, when the buffer has drained (or the connection closed: then it is a no-op). */
  whenDrained(resume: () => void): void;
  /**
   * Ends the connection. `code` is the WebSocket close code of protocol.md §9; SSE just ends the
   * response. Write any final ERROR/BYE frame before calling this.
   */
  close(code: number, reason: string): void;
}

/** Interval of the fallback poll in {@link waitForDrain}, in ms. */
const DRAIN_POLL_MS = 20;

/** What waitForDrain needs of a Node writable (net.Socket, ServerResponse, Http2ServerResponse). */
export interface DrainableStream {
  readonly writableNeedDrain?: boolean;
  readonly destroyed?: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Calls `resume` when `stream` drains. Node emits 'drain' only after a write() returned false, so
 * when the caller's threshold is below the stream's own highWaterMark there is no event to wait
 * for; a short poll covers that case instead of stalling.
 */
export function waitForDrain(stream: DrainableStream, resume: () => void): void {
  if (stream.destroyed) return;
  if (stream.writableNeedDrain === false) {
    setTimeout(resume, DRAIN_POLL_MS).unref();
    return;
  }
  const done = () => {
    stream.off('drain', done);
    stream.off('close', done);
    resume();
  };
  stream.once('drain', done);
  stream.once('close', done);
}
