/**
 * The SSE downstream (protocol.md §5): frames as `text/event-stream` events written straight to the
 * Node response, no compression. A response's first event of a tick is written at once; the events
 * behind it are joined and written once, at the end of the tick (coalesce.ts): on HTTP/1.1 every
 * write is a chunk of its own (size line, data, CRLF), and on the client every chunk is a read of
 * the response stream, so a burst of events (the echoes of a POST body, a replay) costs a chunk or
 * two instead of one per event, and nothing waits longer than the tick. The
 * upstream half (POST /send) is in http.ts; liveness comes from those POSTs, since an SSE stream is
 * write-only for the server.
 */
import { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { FrameCode, sseComment, sseFrame, sseRetry } from '@wirehop/protocol';
import { holdBack, type Coalescing } from './coalesce.js';
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

/**
 * A long-lived event stream on one response: the status and headers, a preamble, then events,
 * written as the file comment says. A session's downstream and a
 * plain EventSource reader's stream are both one of these.
 */
export class SseWriter implements Coalescing {
  tick = 0;
  private ended = false;
  private readonly http1: boolean;
  /** Text held back to the end of the tick (and, for a subclass holding writes back, what waits). */
  private pending = '';
  protected readonly res: ServerResponse;

  /** `onClose` runs once when the response closes (the client went away, or close() ended it). */
  constructor(response: SseResponse, headers: Record<string, string>, preamble: string, onClose: () => void) {
    this.http1 = response instanceof ServerResponse;
    this.res = openSseResponse(response, headers, preamble, () => {
      this.stop();
      onClose();
    });
  }

  get open(): boolean {
    return !this.ended && !this.res.writableEnded && !this.res.destroyed;
  }

  /** What the socket holds plus what waits here (UTF-16 units for queued text), so high-water marks see both. */
  buffered(): number {
    return (this.res.writableLength ?? 0) + this.pending.length;
  }

  /** Ends the response after what this tick queued (a final BYE goes out before the end); false if it had ended. */
  close(): boolean {
    if (this.ended) return false;
    this.flush();
    this.stop();
    this.res.end();
    return true;
  }

  /** Writes what is queued. Returns false if nothing was written: nothing queued, the response gone, or held back. */
  flush(): boolean {
    const text = this.pending;
    if (text === '' || !this.open) return false;
    this.pending = '';
    this.res.write(text);
    return true;
  }

  /** Text queued and not written yet. */
  protected get waiting(): number {
    return this.pending.length;
  }

  protected queue(text: string): void {
    if (!this.open) return;
    const first = this.pending === '';
    this.pending += text;
    // Text behind text that waits waits with it; otherwise coalesce.ts says whether it goes now.
    if (first && !holdBack(this)) this.release();
  }

  /** Writes what is queued now (coalesce.ts), not at the end of the tick as a response would. */
  release(): void {
    if (!this.flush()) return;
    // Node's response.write() corks an HTTP/1 socket until the next tick, whatever we decided.
    // Uncorking it here is safe: that later uncork finds it uncorked and does nothing. An HTTP/2
    // response shares its session's socket, and is left as it is.
    const socket = this.res.socket;
    if (this.http1 && socket?.writableCorked) socket.uncork();
  }

  /** Nothing more is written; what waits is dropped. */
  protected stop(): void {
    this.ended = true;
    this.pending = '';
  }
}

/** An SSE response as a session's downstream. */
export class SseDownstream extends SseWriter implements Downstream {
  readonly kind = 'sse' as const;

  /** Writes the status line, headers and `retry:`. */
  constructor(response: SseResponse, headers: Record<string, string>, retryMs: number, onClose: () => void) {
    super(response, headers, sseRetry(retryMs), onClose);
  }

  write(encodedFrame: string, id: number): void {
    if (this.open) this.queue(sseFrame(id, frameTypeName(encodedFrame), encodedFrame));
  }

  heartbeat(): void {
    this.queue(sseComment('hb'));
  }

  whenDrained(resume: () => void): void {
    waitForDrain(this.res as DrainableStream, resume);
  }
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
