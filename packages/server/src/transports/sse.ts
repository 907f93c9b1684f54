/**
 * The SSE downstream (protocol.md §5): frames as `text/event-stream` events written straight to the
 * Node response, no compression. The events of one tick are joined and written once, at the end of
 * the tick: on HTTP/1.1 every write is a chunk of its own (size line, data, CRLF), and on the client
 * every chunk is a read of the response stream, so a burst of events (the echoes of a POST body, a
 * replay) costs one chunk instead of one per event, and nothing waits longer than the tick. The
 * upstream half (POST /send) is in http.ts; liveness comes from those POSTs, since an SSE stream is
 * write-only for the server.
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { FrameCode, sseComment, sseFrame, sseRetry } from '@wirehop/protocol';
import { waitForDrain, type DrainableStream, type Downstream } from './transport.js';

export type SseResponse = ServerResponse | Http2ServerResponse;

/** Frame type names by code: the SSE `event:` field. */
const NAMES: string[] = [];
for (const [name, code] of Object.entries(FrameCode)) NAMES[code] = name;

/** The type name of an encoded frame, read from its leading code (`[10,…` → 'event') without parsing it. */
export function frameTypeName(encodedFrame: string): string {
  let code = 0;
  for (let i = 1; i < encodedFrame.length && i < 4; i++) {
    const c = encodedFrame.charCodeAt(i);
    if (c < 48 || c > 57) break;
    code = code * 10 + c - 48;
  }
  return NAMES[code] ?? 'message';
}

/**
 * Answer headers of GET /sse. `Connection` is HTTP/1-only (HTTP/2 forbids connection-specific
 * headers); X-Accel-Buffering stops nginx from holding events back.
 */
export function sseHeaders(http2: boolean, extra: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {
    ...extra,
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  };
  if (!http2) headers.connection = 'keep-alive';
  return headers;
}

/** An SSE response as a session's downstream. */
export class SseDownstream implements Downstream {
  readonly kind = 'sse' as const;
  private ended = false;
  /** Events of this tick not yet written: one write at the end of the tick (see the file comment). */
  private pending = '';

  private readonly res: ServerResponse;

  /**
   * Writes the status line, headers and `retry:`; `onClose` runs once when the response closes
   * (client gone, or close() called).
   */
  constructor(
    response: SseResponse,
    headers: Record<string, string>,
    retryMs: number,
    onClose: () => void,
  ) {
    this.res = openSseResponse(response, headers, sseRetry(retryMs), () => {
      this.ended = true;
      this.pending = '';
      onClose();
    });
  }

  get open(): boolean {
    return !this.ended && !this.res.writableEnded && !this.res.destroyed;
  }

  /** Includes the events still waiting for the end of the tick, so highWaterMarkBytes sees them. */
  buffered(): number {
    return (this.res.writableLength ?? 0) + this.pending.length;
  }

  write(encodedFrame: string, id: number): void {
    if (this.open) this.queue(sseFrame(id, frameTypeName(encodedFrame), encodedFrame));
  }

  heartbeat(): void {
    if (this.open) this.queue(sseComment('hb'));
  }

  whenDrained(resume: () => void): void {
    waitForDrain(this.res as DrainableStream, resume);
  }

  close(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.res.end();
  }

  private queue(event: string): void {
    if (this.pending === '') process.nextTick(flushLater, this);
    this.pending += event;
  }

  /**
   * Writes what this tick queued; a no-op once written, or once the response is gone. Called at
   * the end of the tick, and by close() so that a final BYE goes out before the end.
   */
  flush(): void {
    const text = this.pending;
    if (text === '') return;
    this.pending = '';
    if (this.open) this.res.write(text);
  }
}

/** Module-level, so that no closure is made per tick or per response. */
function flushLater(downstream: SseDownstream): void {
  downstream.flush();
}

export function ignore(): void {}

/**
 * Starts a long-lived event stream on `response` (a session's, or an EventSource reader's): the
 * status and headers, then `preamble`. `onClose` hears when the response is gone.
 */
export function openSseResponse(response: SseResponse, headers: Record<string, string>, preamble: string, onClose: () => void): ServerResponse {
  // Http2ServerResponse has the same writeHead/write/end/'drain'/'close' surface; one type keeps calls simple.
  const res = response as ServerResponse;
  res.on('close', onClose);
  // A write racing the client's disconnect: 'close' follows; an unhandled 'error' would crash.
  res.on('error', ignore);
  res.writeHead(200, headers);
  res.write(preamble);
  flattenSentHeader(res);
  return res;
}

/**
 * Node keeps the header block of an HTTP/1 response (`_header`) for the response's whole life, as
 * it built it: a tree of some 25 concatenated string pieces, about 0.7 KiB. An SSE response lives
 * as long as its session, so once the header block is sent it is replaced by the same text in one
 * piece. Node reads it afterwards only to know that headers were sent. Header text is Latin-1
 * (Node refuses anything else in headers), so the copy is exact. HTTP/2 responses have no `_header`.
 */
function flattenSentHeader(res: ServerResponse): void {
  const sent = res as ServerResponse & { _header?: unknown; _headerSent?: unknown };
  if (sent._headerSent === true && typeof sent._header === 'string') sent._header = Buffer.from(sent._header, 'latin1').toString('latin1');
}
