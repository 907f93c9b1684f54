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
import { SseWriter, ignore, type SseResponse } from './sse.js';

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
export class EventSourceWriter extends SseWriter {
  /** The socket is above highWaterMarkBytes: events wait until it drains. */
  private paused = false;
  /** Time of the last write, for heartbeats. */
  lastWrite: number;
  /** When close() ended the response; the host destroys it if the reader never takes the rest. */
  closedAt: number | undefined;

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
    super(response, headers, sseRetry(retryMs) + 'id: ' + formatStreamId(start) + '\n\n', onEnd);
    this.lastWrite = now;
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

  /** Ends the response after what is queued (the browser will reconnect); `now` is when. */
  override close(now = Date.now()): boolean {
    if (!super.close()) return false;
    this.closedAt = now;
    return true;
  }

  /** Drops the connection and whatever it still holds. */
  destroy(): void {
    this.stop();
    this.res.destroy();
  }

  /** Writes what is queued, unless the socket is above the high-water mark: then after it drains. */
  override flush(): boolean {
    if (this.paused || !super.flush()) return false;
    this.lastWrite = Date.now();
    if ((this.res.writableLength ?? 0) > this.highWaterMarkBytes) {
      this.paused = true;
      waitForDrain(this.res, () => {
        this.paused = false;
        this.flush();
      });
    }
    return true;
  }

  /** While paused, events wait; more of them than highWaterMarkBytes is a reader that does not read: cut it, it resumes from history. */
  protected override queue(text: string): void {
    super.queue(text);
    if (this.paused && this.waiting > this.highWaterMarkBytes) this.destroy();
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
