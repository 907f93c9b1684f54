/**
 * The read-only channel stream for a plain browser `EventSource` (protocol.md §5a): one channel's
 * publications as `text/event-stream` events whose `id:` is the channel position, so the browser's
 * own `Last-Event-ID` on reconnect is exactly where to resume from history. This file only writes;
 * which publications to write (recovery, order, gaps) is the hub's business (event-streams.ts).
 *
 * Unlike a session's SSE downstream there is no replay buffer behind this stream: the channel's
 * history is the replay buffer. So a reader that falls behind is not waited for without bound:
 * once the socket is above `highWaterMarkBytes`, events wait here until it drains, and when those
 * waiting events exceed `highWaterMarkBytes` as well the response is destroyed. The browser
 * reconnects with the id of the last event it read and history fills in the rest. (The burst of a
 * resume from history is bounded by the caller, event-streams.ts.)
 */
import type { ServerResponse } from 'node:http';
import { sseComment, sseRetry, type StreamPosition } from '@wirehop/protocol';
import { waitForDrain } from './transport.js';
import { ignore, openSseResponse, type SseResponse } from './sse.js';

/** Longest epoch a position may have (protocol.md §2). */
const MAX_EPOCH_LENGTH = 64;
const ID_SYNTAX = /^(\d{1,15})@([^\s]*)$/;

/**
 * The SSE id of a position: `<offset>@<epoch>`, the epoch percent-encoded (a no-op for the URL-safe
 * epochs wirehop's brokers make) so that any epoch survives an `id:` field, a header and a URL.
 */
export function formatStreamId(position: StreamPosition): string {
  return position.offset + '@' + encodeURIComponent(position.epoch);
}

/** The position of an id made by {@link formatStreamId}, or undefined when it is not one. */
export function parseStreamId(text: string): StreamPosition | undefined {
  const match = ID_SYNTAX.exec(text);
  if (!match) return undefined;
  let epoch: string;
  try {
    epoch = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  const offset = Number(match[1]);
  if (epoch.length > MAX_EPOCH_LENGTH || !Number.isSafeInteger(offset)) return undefined;
  return { epoch, offset };
}

/** A publication as an event: `id: <position>`, `data: <the published JSON>` (event type `message`). */
export function publicationEvent(position: StreamPosition, dataJson: string): string {
  // Published data is JSON, which never holds a raw line break: one data line.
  return 'id: ' + formatStreamId(position) + '\ndata: ' + dataJson + '\n\n';
}

/** A channel's events written to one HTTP response. */
export class EventSourceWriter {
  private ended = false;
  /** Events not written yet: this tick's (one write per tick), or those waiting for a drain. */
  private pending = '';
  private scheduled = false;
  /** The socket is above highWaterMarkBytes: events wait in `pending` until it drains. */
  private paused = false;
  /** Time of the last write, for heartbeats. */
  lastWrite: number;
  /** When close() ended the response; the host destroys it if the reader never takes the rest. */
  closedAt: number | undefined;

  private readonly res: ServerResponse;

  /** Writes the status line, headers, `retry:` and the starting position; `onEnd` runs once when the response closes. */
  constructor(
    response: SseResponse,
    headers: Record<string, string>,
    retryMs: number,
    start: StreamPosition,
    private readonly highWaterMarkBytes: number,
    onEnd: () => void,
    now: number,
  ) {
    // An id-only event dispatches nothing but sets the reader's last event id: a reader cut before
    // the first publication still resumes from here rather than from "now".
    this.res = openSseResponse(response, headers, sseRetry(retryMs) + 'id: ' + formatStreamId(start) + '\n\n', () => {
      this.stop();
      onEnd();
    });
    this.lastWrite = now;
  }

  get open(): boolean {
    return !this.ended && !this.res.writableEnded && !this.res.destroyed;
  }

  /** A publication's event, from {@link publicationEvent}. */
  publication(event: string): void {
    this.queue(event);
  }

  /** Publications up to `position` will never come: `event: gap` with a JSON body, and the id moves there. */
  gap(position: StreamPosition, code: string, message: string): void {
    const body = JSON.stringify({ code, message, position });
    this.queue('id: ' + formatStreamId(position) + '\nevent: gap\ndata: ' + body + '\n\n');
  }

  /** A comment line, so that proxies do not idle the stream out. */
  heartbeat(now: number): void {
    this.queue(sseComment('hb'));
    this.lastWrite = now;
  }

  /** Ends the response after what is queued (the browser will reconnect). */
  close(now: number): void {
    if (this.ended) return;
    this.flush();
    this.stop();
    this.closedAt = now;
    this.res.end();
  }

  /** Drops the connection and whatever it still holds. */
  destroy(): void {
    this.stop();
    this.res.destroy();
  }

  /** Bytes not yet handed to the socket, and those the socket holds (UTF-16 units for queued text). */
  buffered(): number {
    return (this.res.writableLength ?? 0) + this.pending.length;
  }

  private queue(text: string): void {
    if (!this.open) return;
    this.pending += text;
    if (this.paused) {
      if (this.pending.length > this.highWaterMarkBytes) this.overflow();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(flushLater, this);
    }
  }

  /** Writes what is queued, unless the socket is above the high-water mark: then after it drains. */
  flush(): void {
    this.scheduled = false;
    if (this.paused || this.pending === '' || !this.open) return;
    const text = this.pending;
    this.pending = '';
    this.res.write(text);
    this.lastWrite = Date.now();
    if ((this.res.writableLength ?? 0) <= this.highWaterMarkBytes) return;
    this.paused = true;
    waitForDrain(this.res, () => {
      this.paused = false;
      this.flush();
    });
  }

  /** Too much waiting for a reader that does not read: cut it; it resumes from history. */
  private overflow(): void {
    this.destroy();
  }

  private stop(): void {
    this.ended = true;
    this.pending = '';
  }
}

/**
 * Answers a passing refusal so that an `EventSource` comes back (it gives up for good on any status
 * but 200): a 200 stream with `retry:` set to the wait, one `event: unavailable` whose data is
 * `{code, message, retryMs}` for pages that listen, and the end. The browser keeps its last event
 * id, so the retry resumes where the reader was.
 */
export function writeRetryLater(response: SseResponse, headers: Record<string, string>, code: string, message: string, retryMs: number): void {
  const res = response as ServerResponse;
  res.on('error', ignore);
  res.writeHead(200, headers);
  res.end(sseRetry(retryMs) + 'event: unavailable\ndata: ' + JSON.stringify({ code, message, retryMs }) + '\n\n');
}

/** Module-level, so that no closure is made per tick. */
function flushLater(writer: EventSourceWriter): void {
  writer.flush();
}
