/**
 * Reading POST bodies with limits enforced as the bytes arrive (protocol.md §5): a body over
 * maxBatchBytes, a line over maxMessageBytes or more than maxBatchFrames lines is refused before
 * any more of it is buffered. Lines are handed out as soon as they are complete, so the frames
 * before a bad line are processed, as the protocol requires.
 */
import type { Readable } from 'node:stream';

export interface BodyLimits {
  maxBodyBytes: number;
  maxLineBytes: number;
  maxLines: number;
}

export interface BodyError {
  code: 'body_too_large' | 'message_too_large';
  message: string;
}

/** What the line consumer returns: undefined to go on, or 'stop' to discard the rest of the body. */
export type LineVerdict = 'stop' | undefined;

/** What readLines feeds a body into. */
export interface ChunkConsumer {
  /** Returns an error or 'stop' when reading must end, else undefined. */
  feed(chunk: Buffer): BodyError | 'stop' | undefined;
  /** The body ended. */
  end(): BodyError | 'stop' | undefined;
}

/** A push parser from Buffer chunks to NDJSON lines. Empty lines (and a trailing CR) are ignored. */
export class LineSplitter implements ChunkConsumer {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private total = 0;
  private lines = 0;

  constructor(
    private readonly limits: BodyLimits,
    private readonly onLine: (line: string) => LineVerdict,
  ) {}

  /** Feeds a chunk. Returns an error or 'stop' when reading must end, else undefined. */
  feed(chunk: Buffer): BodyError | 'stop' | undefined {
    this.total += chunk.length;
    if (this.total > this.limits.maxBodyBytes)
      return { code: 'body_too_large', message: `body exceeds maxBatchBytes (${this.limits.maxBodyBytes} bytes)` };
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const line = this.partial.length === 0 ? piece : Buffer.concat([...this.partial, piece]);
      this.partial = [];
      this.partialBytes = 0;
      start = nl + 1;
      const verdict = this.emit(line);
      if (verdict) return verdict;
    }
    if (start < chunk.length) {
      this.partialBytes += chunk.length - start;
      // +1: the line may still end in a CR that is not part of it.
      if (this.partialBytes > this.limits.maxLineBytes + 1) return this.lineTooLarge();
      this.partial.push(chunk.subarray(start));
    }
    return undefined;
  }

  /** The body ended: a last line without a newline still counts. */
  end(): BodyError | 'stop' | undefined {
    if (this.partial.length === 0) return undefined;
    const line = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    return this.emit(line);
  }

  private emit(raw: Buffer): BodyError | 'stop' | undefined {
    const line = raw.length > 0 && raw[raw.length - 1] === 13 ? raw.subarray(0, raw.length - 1) : raw;
    if (line.length === 0) return undefined;
    if (line.length > this.limits.maxLineBytes) return this.lineTooLarge();
    if (++this.lines > this.limits.maxLines)
      return { code: 'body_too_large', message: `body holds more than maxBatchFrames (${this.limits.maxLines}) frames` };
    return this.onLine(line.toString('utf8'));
  }

  private lineTooLarge(): BodyError {
    return { code: 'message_too_large', message: `a frame exceeds maxMessageBytes (${this.limits.maxLineBytes} bytes)` };
  }
}

export type BodyEnd = { kind: 'end' } | { kind: 'stopped' } | { kind: 'error'; error: BodyError } | { kind: 'aborted' };

/**
 * Feeds a Node request body into a splitter until it ends, the consumer stops, a limit is hit or
 * the client goes away. On early exit the listeners are removed and the stream is paused: the
 * rest of the body is never buffered by us (the HTTP layer discards it).
 */
export function readLines(stream: Readable, splitter: ChunkConsumer): Promise<BodyEnd> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: BodyEnd) => {
      if (done) return;
      done = true;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onAbort);
      stream.off('close', onClose);
      if (result.kind !== 'end' && result.kind !== 'aborted') stream.pause();
      resolve(result);
    };
    const settle = (verdict: BodyError | 'stop' | undefined) => {
      if (verdict === 'stop') finish({ kind: 'stopped' });
      else if (verdict) finish({ kind: 'error', error: verdict });
    };
    const onData = (chunk: Buffer | string) => settle(splitter.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    const onEnd = () => {
      const verdict = splitter.end();
      if (verdict) settle(verdict);
      else finish({ kind: 'end' });
    };
    const onAbort = () => finish({ kind: 'aborted' });
    const onClose = () => {
      if (!stream.readableEnded) onAbort();
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onAbort);
    stream.on('close', onClose);
    if (stream.readableEnded) onEnd();
  });
}

/**
 * Reads a whole body as text (POST /session, a body forwarded to another node). Over `maxBytes`
 * (maxBatchBytes) it stops reading and answers body_too_large; undefined if the client went away.
 */
export function readText(stream: Readable, maxBytes: number): Promise<string | BodyError | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  const collect: ChunkConsumer = {
    feed(chunk) {
      total += chunk.length;
      if (total > maxBytes) return { code: 'body_too_large', message: `body exceeds maxBatchBytes (${maxBytes} bytes)` };
      chunks.push(chunk);
      return undefined;
    },
    end: () => undefined,
  };
  return readLines(stream, collect).then((end) => {
    if (end.kind === 'error') return end.error;
    return end.kind === 'end' ? Buffer.concat(chunks).toString('utf8') : undefined;
  });
}
