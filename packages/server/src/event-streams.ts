/**
 * Read-only channel streams for a plain browser `EventSource` (protocol.md §5a): `GET
 * {path}/events?channel=<name>`. Opt-in per channel rule (`eventSource: true`), so no channel is
 * readable this way unless the application said so. A stream goes through `authenticate` and the
 * rule's `authorize` as a session's subscribe would, then is an ordinary subscriber of the hub:
 * recovery from history after `Last-Event-ID`, offset order and GAPs all come from the hub and the
 * channel feed, not from here. A stream is not a session: no presence, no 'session'/'subscribe'
 * events, nothing upstream.
 */
import { Defaults, ErrorCodes, FrameCode, WirehopError, isErrorCode, isValidName, type StreamPosition } from '@wirehop/protocol';
import { nanoid } from 'nanoid';
import { authenticateUser, hookStatus, refuse } from './handshake.js';
import type { Hub, Subscriber } from './hub.js';
import type { ResolvedOptions } from './options.js';
import { parseCookies } from './request-info.js';
import { EventSourceWriter, parseStreamId, publicationEvent } from './transports/eventsource.js';
import { sseHeaders, type SseResponse } from './transports/sse.js';
import type { ChannelConfig, Session, UserBase } from './types.js';

/** The route, under the server's base path. */
export const EVENTS_PATH = '/events';

/** A refused stream: the HTTP status and the JSON error body's code and message (protocol.md §8). */
export interface StreamRefusal {
  code: string;
  message: string;
  status: number;
  /**
   * A passing condition (the stream limit, a server shutting down, the broker): answer so that the
   * browser retries after about this long, since `EventSource` gives up for good on any status but
   * 200. Absent: a refusal proper (bad request, not authorized, not exposed).
   */
  retryMs?: number;
}

/** How long a reader waits before retrying after a passing refusal, before jitter. */
const RETRY_LATER_MS = { stream_limit: 5000, broker_unavailable: 2000, server_closing: 1000 } as const;

/** A passing refusal; the wait is jittered by up to half again, so that refused readers do not return together. */
function later(code: keyof typeof RETRY_LATER_MS, message: string): StreamRefusal {
  return { code, message, status: 503, retryMs: Math.round(RETRY_LATER_MS[code] * (1 + Math.random() / 2)) };
}

/** What opening a stream needs of the request. */
export interface EventStreamRequest {
  query: URLSearchParams;
  headers: Headers;
  ip: string | undefined;
  response: SseResponse;
  http2: boolean;
  /** CORS headers for the answer. */
  cors: Record<string, string>;
  /** True once the client has gone away. */
  gone(): boolean;
}

/** What the streams need of the server. */
export interface EventStreamHost<U extends UserBase> {
  readonly options: ResolvedOptions<U>;
  readonly closing: boolean;
  readonly hub: Hub<Subscriber>;
  rule(channel: string): ChannelConfig<U> | undefined;
  onError(error: unknown, phase: string): void;
}

/** Query parameters that belong to the route; the others are handed to `authenticate` as `auth`. */
const ROUTE_PARAMS = new Set(['channel', 'since']);

const refusal = (code: string, message: string, status: number): StreamRefusal => ({ code, message, status });

/**
 * Splits an EVENT frame's tail (`"channel","event",data,offset]`, channel-feed.ts) into the data
 * JSON and the offset without parsing the data: this runs once per publication per stream.
 */
export function splitEventTail(channelJson: string, tail: string): { data: string; offset: number } {
  const start = channelJson.length + 1;
  if (tail.charCodeAt(start) === 34 && tail.charCodeAt(start - 1) === 44 && tail.startsWith(channelJson)) {
    let i = start + 1;
    for (; i < tail.length; i++) {
      const c = tail.charCodeAt(i);
      if (c === 92) i++; // a backslash escapes the next character
      else if (c === 34) break;
    }
    // The offset is a number, so the last comma is the one before it, whatever the data holds.
    const comma = tail.lastIndexOf(',');
    if (tail.charCodeAt(i + 1) === 44 && comma > i + 1) return { data: tail.slice(i + 2, comma), offset: Number(tail.slice(comma + 1, -1)) };
  }
  const [, , data, offset] = JSON.parse('[' + tail) as [string, string, unknown, number];
  return { data: JSON.stringify(data ?? null), offset };
}

/** The last publication made into event text, and what it was made from (see EventStream.pushTail). */
let lastTail = '';
let lastEpoch = '';
let lastEvent = '';

/** One reader of one channel: a hub subscriber, and the Session that `authorize` is shown. */
export class EventStream<U extends UserBase> implements Subscriber, Session<U> {
  readonly channels = new Set<string>();
  /** It is an SSE stream; `AuthContext.channel` is what tells `authenticate` it is a read-only one. */
  readonly transport = 'sse' as const;
  private appData: Record<string, unknown> | undefined;
  private readonly channelJson: string;
  /** The epoch of the publications being written; moves with GAPs. */
  private epoch = '';
  /** What the hub queued before the response could start (history recovered while subscribing). */
  private early: Array<[FrameCode, string]> | undefined = [];
  private earlyBytes = 0;
  /** The recovery passed `maxBurst` and was refused the rest: the response ends after what it holds. */
  private cut = false;
  writer: EventSourceWriter | undefined;

  constructor(
    readonly id: string,
    readonly user: U,
    channel: string,
    /** How much recovered history one response holds (replayBufferBytes). */
    private readonly maxBurst: number,
    /** Leaves the hub: called once the stream is ending. */
    private readonly stopped: () => void,
  ) {
    this.channelJson = JSON.stringify(channel);
  }

  get data(): Record<string, unknown> {
    return (this.appData ??= {});
  }

  /**
   * The response is open: write what was queued while subscribing (recovered from history), then
   * live. A recovery larger than `maxBurst` is cut after the event that passes it (pushTail refuses
   * the rest, and the hub stops reading history) and the response ends: the browser reconnects
   * from that event's id and reads on from history. So a resume never reads or holds much more than
   * `maxBurst` (nor does a reader that asks for all history and reads nothing), and every connection
   * makes progress.
   */
  start(writer: EventSourceWriter, epoch: string): void {
    this.writer = writer;
    this.epoch = epoch;
    const early = this.early ?? [];
    this.early = undefined;
    for (const [code, tail] of early) {
      this.pushTail(code, tail);
      if (writer.buffered() > this.maxBurst) return this.close();
    }
    if (this.cut) this.close();
  }

  pushTail(code: FrameCode, tail: string): boolean {
    if (code !== FrameCode.event && code !== FrameCode.gap) return true; // presence is not part of the stream
    if (this.early) {
      if (this.cut || this.earlyBytes > this.maxBurst) {
        this.cut = true;
        return false;
      }
      this.early.push([code, tail]);
      this.earlyBytes += tail.length;
      return true;
    }
    const writer = this.writer;
    if (!writer?.open) return false;
    if (code === FrameCode.event) {
      // The feed hands every stream of the channel the same tail, one after another: the event
      // text is made once per publication, not once per reader.
      if (tail !== lastTail || this.epoch !== lastEpoch) {
        const { data, offset } = splitEventTail(this.channelJson, tail);
        lastEvent = publicationEvent({ epoch: this.epoch, offset }, data);
        lastTail = tail;
        lastEpoch = this.epoch;
      }
      writer.publication(lastEvent);
    } else {
      const [, why, message, position] = JSON.parse('[' + tail) as [string, string, string, StreamPosition];
      this.epoch = position.epoch;
      writer.gap(position, why, message);
    }
    return true;
  }

  /** A stream carries its channel's publications only. */
  send(): void {
    throw new WirehopError('bad_request', 'an EventSource stream is read-only: it carries its channel only');
  }

  /** Ends the response. The browser reconnects unless the page closes it; the next request is authorized anew. */
  close(): void {
    this.writer?.close(Date.now());
    this.stopped();
  }
}

/** The open streams of one server, and the route's logic. */
export class EventStreams<U extends UserBase> {
  private readonly live = new Set<EventStream<U>>();
  /** Streams between the request and their first byte (authenticating, subscribing). */
  private opening = 0;

  constructor(private readonly host: EventStreamHost<U>) {}

  /** Streams open or opening. */
  get size(): number {
    return this.live.size + this.opening;
  }

  /**
   * Answers `GET {path}/events`: undefined once the stream is written to the response (or the
   * client went away), else the refusal to send as a JSON error.
   */
  async open(req: EventStreamRequest): Promise<StreamRefusal | undefined> {
    const { options } = this.host;
    const channel = req.query.get('channel');
    if (!channel) return refusal('bad_request', `GET ${EVENTS_PATH} needs a ?channel= parameter`, 400);
    if (!isValidName(channel, 'channel', options.limits))
      return refusal('bad_request', `invalid channel name: it must be a string of 1..${options.limits.maxChannelLength} characters without control characters`, 400);
    const rule = this.host.rule(channel);
    // 404 for both: a reader cannot tell a channel that exists from one that is not exposed.
    if (rule?.eventSource !== true) return refusal('not_exposed', `no EventSource stream for ${JSON.stringify(channel)}`, 404);
    const idText = req.headers.get('last-event-id')?.trim() || req.query.get('since')?.trim() || undefined;
    const since = idText === undefined ? undefined : parseStreamId(idText);
    if (idText !== undefined && !since)
      return refusal('bad_request', 'Last-Event-ID (or ?since=) must be a position like 42@epoch, as the stream sent it', 400);
    if (this.size >= options.maxEventStreams)
      return later('stream_limit', `the server has ${options.maxEventStreams} EventSource streams open (maxEventStreams)`);
    this.opening++;
    try {
      const stream = await this.admit(req, channel, rule);
      if (!(stream instanceof EventStream)) return stream;
      if (req.gone() || this.host.closing) return this.host.closing ? serverClosing() : undefined;
      let position: StreamPosition;
      try {
        position = await this.host.hub.subscribe(stream, channel, since);
      } catch (error) {
        this.host.hub.unsubscribe(stream, channel);
        this.host.onError(error, 'subscribe');
        return later('broker_unavailable', 'the channel could not be subscribed to');
      }
      if (req.gone() || this.host.closing) {
        this.host.hub.unsubscribe(stream, channel);
        return this.host.closing ? serverClosing() : undefined;
      }
      const onEnd = () => {
        this.live.delete(stream);
        this.host.hub.unsubscribe(stream, channel);
      };
      let writer: EventSourceWriter;
      try {
        // Ids resume from where the reader said it was (the events follow it), else from where live delivery starts.
        writer = new EventSourceWriter(req.response, sseHeaders(req.http2, req.cors), Defaults.sseRetryMs, since ?? position, options.limits.highWaterMarkBytes, onEnd, Date.now());
      } catch (error) {
        this.host.hub.unsubscribe(stream, channel);
        throw error;
      }
      this.live.add(stream);
      stream.start(writer, (since ?? position).epoch);
      return undefined;
    } finally {
      this.opening--;
    }
  }

  /**
   * Heartbeat comments on streams that wrote nothing for `heartbeatMs`; a stream that was ended but
   * whose reader has not taken the rest within `heartbeatTimeoutMs` is dropped.
   */
  sweep(now: number): void {
    const { heartbeatMs, heartbeatTimeoutMs } = this.host.options;
    for (const stream of this.live) {
      const writer = stream.writer;
      if (!writer) continue;
      if (writer.closedAt !== undefined) {
        if (now - writer.closedAt >= heartbeatTimeoutMs) writer.destroy();
      } else if (now - writer.lastWrite >= heartbeatMs) writer.heartbeat(now);
    }
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const stream of [...this.live]) stream.close();
  }

  /** The stream for an authenticated and authorized reader, or the refusal. */
  private async admit(req: EventStreamRequest, channel: string, rule: ChannelConfig<U>): Promise<EventStream<U> | StreamRefusal> {
    const id = nanoid();
    const auth: Record<string, string> = {};
    for (const [key, value] of req.query) if (!ROUTE_PARAMS.has(key) && !(key in auth)) auth[key] = value;
    const who = await authenticateUser(this.host, id, {
      headers: req.headers,
      cookies: parseCookies(req.headers.get('cookie')),
      auth: Object.keys(auth).length > 0 ? auth : undefined,
      transport: 'sse',
      ip: req.ip,
      channel,
    });
    if (!who.ok) return who;
    const stream: EventStream<U> = new EventStream<U>(id, who.user, channel, this.host.options.limits.replayBufferBytes, () => this.host.hub.unsubscribe(stream, channel));
    const authorize = rule.authorize;
    if (!authorize) return stream;
    try {
      if ((await authorize(stream, channel)) === true) return stream;
      return refusal('forbidden', `not allowed to subscribe to ${JSON.stringify(channel)}`, 403);
    } catch (error) {
      if (error instanceof WirehopError) {
        return refusal(error.code, error.message, hookStatus(error, isErrorCode(error.code) ? ErrorCodes[error.code].status : 403));
      }
      this.host.onError(error, 'authorize');
      return refusal('forbidden', 'not allowed', 403);
    }
  }
}

function serverClosing(): StreamRefusal {
  return later('server_closing', refuse('server_closing').message);
}
