/**
 * Server-Sent Events: the serializer the server writes with, and the parser the client reads with.
 * Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
 */
import { WirehopError } from './codes.js';
import { decodeServerFrame, type CodecLimits } from './codec.js';
import type { ServerFrame } from './frames.js';
import { Defaults } from './limits.js';
import { createSseParser } from './sse-parser.js';

const LINE_BREAK = /\r\n|\r|\n/;
const FORBIDDEN_IN_FIELD = /[\r\n\0]/;

export interface SseEvent {
  /** Becomes the reader's `lastEventId`; wirehop sends the last reliable sequence number written. */
  id?: string | number;
  event?: string;
  data: string;
}

/**
 * One SSE event. `data` may span lines: each line gets its own `data:` field, so a CR, LF or CRLF
 * inside it can never end the event early. `id` and `event` may not contain line breaks (the spec
 * has no escaping for them), so that is a programmer error and throws.
 */
export function sseEvent({ id, event, data }: SseEvent): string {
  let out = '';
  if (id !== undefined) {
    const text = String(id);
    if (FORBIDDEN_IN_FIELD.test(text)) throw new WirehopError('bad_frame', 'SSE id must not contain CR, LF or NUL');
    out += 'id: ' + text + '\n';
  }
  if (event !== undefined) {
    if (FORBIDDEN_IN_FIELD.test(event)) throw new WirehopError('bad_frame', 'SSE event name must not contain CR, LF or NUL');
    out += 'event: ' + event + '\n';
  }
  for (const line of data.split(LINE_BREAK)) out += 'data: ' + line + '\n';
  return out + '\n';
}

/**
 * A wirehop frame as an SSE event. Encoded frames are JSON, which never holds a raw line break,
 * so this skips the split that {@link sseEvent} does: it runs once per event per subscriber.
 */
export function sseFrame(id: number, type: string, encodedFrame: string): string {
  return 'id: ' + id + '\nevent: ' + type + '\ndata: ' + encodedFrame + '\n\n';
}

/** A comment line: ignored by readers, but it keeps proxies and idle timers from closing the stream. */
export function sseComment(text = ''): string {
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += ':' + (line ? ' ' + line : '') + '\n';
  return out + '\n';
}

/** The reconnection delay hint for plain EventSource readers. */
export function sseRetry(ms: number): string {
  return 'retry: ' + Math.max(0, Math.floor(ms)) + '\n\n';
}

export interface SseFrameParserOptions extends CodecLimits {
  /** `size`: the frame's text length (its event's data), as a server counts it in its replay buffer. */
  onFrame: (frame: ServerFrame, lastEventId: string | undefined, size: number) => void;
  /** A malformed event or frame, or an event over the size limit. The stream should be dropped. */
  onError: (error: WirehopError) => void;
  /** Comments (heartbeats) and `retry:` fields: proof the stream is alive. */
  onActivity?: () => void;
  /** Largest event the parser will buffer, in characters; above it the stream is in error. */
  maxEventBytes?: number;
}

export interface SseFrameParser {
  /** Feed decoded text in chunks of any size, split anywhere. */
  feed(chunk: string): void;
  reset(): void;
}

/**
 * Parses an SSE stream of wirehop frames: {@link createSseParser} plus the frame decoding, and a
 * bound on how much an endless line or event can make the reader buffer.
 */
export function createSseFrameParser(options: SseFrameParserOptions): SseFrameParser {
  // An SSE event adds field names and line breaks to the frame, so allow some overhead.
  const max = (options.maxEventBytes ?? Defaults.maxMessageBytes) + 1024;
  let failed = false;

  const fail = (error: WirehopError) => {
    if (failed) return;
    failed = true;
    options.onError(error);
  };

  const parser = createSseParser({
    onEvent({ data, id }) {
      if (failed) return;
      const decoded = decodeServerFrame(data, options);
      if (!decoded.ok) return fail(new WirehopError(decoded.code, decoded.message));
      options.onFrame(decoded.frame, id, data.length);
    },
    onComment: () => options.onActivity?.(),
    onRetry: () => options.onActivity?.(),
    onOverflow: () => fail(new WirehopError('message_too_large', `SSE event exceeds ${max} characters`)),
    maxBufferSize: max,
  });

  return {
    feed(chunk) {
      if (!failed) parser.feed(chunk);
    },
    reset() {
      parser.reset();
      failed = false;
    },
  };
}
