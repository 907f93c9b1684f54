/**
 * The SSE downstream (protocol.md §5): frames as `text/event-stream` events written straight to the
 * Node response, one write per event, no compression, so every event leaves at once. The upstream
 * half (POST /send) is in http.ts; liveness comes from those POSTs, since an SSE stream is
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
  private corked = false;

  /**
   * Writes the status line, headers and `retry:`; `onClose` runs once when the response closes
   * (client gone, or close() called).
   */
  private readonly res: ServerResponse;

  constructor(
    response: SseResponse,
    headers: Record<string, string>,
    retryMs: number,
    onClose: () => void,
  ) {
    // Http2ServerResponse has the same writeHead/write/end/'drain'/'close' surface; one type keeps calls simple.
    const res = (this.res = response as ServerResponse);
    res.on('close', () => {
      this.ended = true;
      onClose();
    });
    // A write racing the client's disconnect: 'close' follows and detaches; an unhandled 'error' would crash.
    res.on('error', () => undefined);
    res.writeHead(200, headers);
    res.write(sseRetry(retryMs));
  }

  get open(): boolean {
    return !this.ended && !this.res.writableEnded && !this.res.destroyed;
  }

  buffered(): number {
    return this.res.writableLength ?? 0;
  }

  write(encodedFrame: string, id: number): void {
    if (!this.open) return;
    this.cork();
    this.res.write(sseFrame(id, frameTypeName(encodedFrame), encodedFrame));
  }

  heartbeat(): void {
    if (this.open) this.res.write(sseComment('hb'));
  }

  whenDrained(resume: () => void): void {
    waitForDrain(this.res as DrainableStream, resume);
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.res.end();
  }

  /** Events written in the same tick leave together; the uncork still happens before any IO wait. */
  private cork(): void {
    const res = this.res;
    if (this.corked || typeof res.cork !== 'function') return;
    this.corked = true;
    res.cork();
    process.nextTick(() => {
      this.corked = false;
      res.uncork();
    });
  }
}
