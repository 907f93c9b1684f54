/**
 * A push parser for `text/event-stream`: feed it decoded text in chunks split anywhere, it calls
 * back once per event. No IO; the client reads the stream with fetch and feeds it here.
 * Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 *
 * Ours rather than eventsource-parser: the client needs only this much of it, at a quarter of the
 * size, and sse-parser.test.ts holds it to the same rules (fixtures fed whole, a character at a
 * time and at random split points).
 */

/** One dispatched event. */
export interface SseMessage {
  data: string;
  /** The `event:` field, or `'message'` when the event had none. */
  event: string;
  /** The last `id:` seen on the stream so far (it persists across events); undefined before any. */
  id: string | undefined;
}

export interface SseParserOptions {
  onEvent(message: SseMessage): void;
  /** A comment line (`: text`), without the colon and one leading space. */
  onComment?(text: string): void;
  /** A valid `retry:` field (digits only), in ms. */
  onRetry?(ms: number): void;
  /**
   * More than `maxBufferSize` characters are waiting for the end of a line or of an event: the
   * parser stops (every later feed is ignored until reset) and calls this once.
   */
  onOverflow?(buffered: number): void;
  /** Default: unbounded. */
  maxBufferSize?: number;
}

export interface SseParser {
  /** Feeds decoded text; a chunk may end anywhere, even between the CR and LF of one line break. */
  feed(chunk: string): void;
  /** Forgets everything, as for a new stream (the last event id too). */
  reset(): void;
}

export function createSseParser(options: SseParserOptions): SseParser {
  // Per parser: a global regex keeps state (lastIndex). A CR that ends a chunk may be half of a
  // CRLF split across chunks: `cr` below handles that.
  const lineEnd = /\r\n?|\n/g;
  /** The unfinished line (never holds a line break). */
  let line = '';
  /** `data:` values of the event so far, each followed by LF (the spec's data buffer). */
  let data = '';
  let event = '';
  let id: string | undefined;
  /** The last chunk ended in CR: an LF starting the next one belongs to that line break. */
  let cr = false;
  let fresh = true;
  let stopped = false;

  function field(text: string) {
    if (!text) {
      // Dispatch. An event with no data line is not dispatched; its `event:` is forgotten all the same.
      if (data) options.onEvent({ data: data.slice(0, -1), event: event || 'message', id });
      data = event = '';
      return;
    }
    const colon = text.indexOf(':');
    if (colon === 0) return options.onComment?.(text.slice(text[1] === ' ' ? 2 : 1));
    // No colon: the whole line is the field name, with an empty value.
    const name = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? '' : text.slice(colon + (text[colon + 1] === ' ' ? 2 : 1));
    if (name === 'data') data += value + '\n';
    else if (name === 'event') event = value;
    else if (name === 'id') id = value.includes('\0') ? id : value;
    else if (name === 'retry' && /^\d+$/.test(value)) options.onRetry?.(+value);
    // Anything else is ignored, as the spec says.
  }

  return {
    feed(chunk) {
      if (stopped || !chunk) return;
      if (fresh && chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1); // one leading BOM
      fresh = false;
      if (cr && chunk[0] === '\n') chunk = chunk.slice(1);
      cr = chunk.endsWith('\r');
      // `line` has no line break, so the search starts where the new text does.
      lineEnd.lastIndex = line.length;
      const text = line + chunk;
      let start = 0;
      for (let m; (m = lineEnd.exec(text)); start = lineEnd.lastIndex) field(text.slice(start, m.index));
      line = text.slice(start);
      const buffered = line.length + data.length;
      if (options.maxBufferSize !== undefined && buffered > options.maxBufferSize) {
        stopped = true;
        options.onOverflow?.(buffered);
      }
    },
    reset() {
      line = data = event = '';
      id = undefined;
      cr = stopped = false;
      fresh = true;
    },
  };
}
