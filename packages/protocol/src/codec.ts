/**
 * Encoding and decoding of frames. Pure functions: decoding wire input never throws, it returns a
 * result with a stable error code; encoding throws only for programmer errors (data that is not
 * JSON), with a message that says what to fix.
 */
import { WirehopError } from './codes.js';
import {
  FrameCode,
  PROTOCOL_VERSION,
  type ClientFrame,
  type Frame,
  type HelloFrame,
  type Member,
  type ServerFrame,
  type WelcomeFrame,
} from './frames.js';
import { Defaults } from './limits.js';

export type DecodeError = { ok: false; code: 'bad_frame' | 'unknown_frame'; message: string };
export type Decoded<F> = { ok: true; frame: F } | DecodeError;

export interface CodecLimits {
  maxChannelLength?: number;
  maxNameLength?: number;
}

// ---- encoding ------------------------------------------------------------------------------

function stringify(value: unknown[]): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new WirehopError('bad_frame', `data is not JSON-serializable: ${(err as Error).message}`);
  }
  return text as string;
}

/**
 * The part of a reliable frame after its sequence number, e.g. `"room:1","msg",{"a":1}]`.
 * Encode a publication's tail once and prefix it per session with {@link encodeWithTail}: fan-out
 * then costs one JSON.stringify, not one per subscriber.
 */
export function encodeTail(fields: unknown[]): string {
  return stringify(fields).slice(1);
}

/** `[code,seq,` + tail. */
export function encodeWithTail(code: FrameCode, seq: number, tail: string): string {
  return '[' + code + ',' + seq + ',' + tail;
}

function fieldsOf(frame: Frame): unknown[] {
  switch (frame.type) {
    case 'subscribe':
    case 'unsubscribe':
    case 'presence':
      return [frame.seq, frame.channel];
    case 'publish':
    case 'event':
      return [frame.seq, frame.channel, frame.event, frame.data ?? null];
    case 'send':
    case 'message':
      return [frame.seq, frame.event, frame.data ?? null];
    case 'request':
      return [frame.seq, frame.method, frame.data ?? null];
    case 'reply':
      return [frame.seq, frame.re, frame.data ?? null];
    case 'replyError':
      return [frame.seq, frame.re, frame.code, frame.message];
    case 'join':
    case 'leave':
      return [frame.seq, frame.channel, frame.member];
    case 'ack':
      return [frame.ack];
    case 'ping':
    case 'pong':
      return [frame.n];
    case 'error':
      return [frame.code, frame.message];
    case 'bye':
      return [frame.code, frame.message, frame.ack];
    case 'hello':
    case 'welcome': {
      const { type: _type, ...body } = frame;
      return [body];
    }
  }
}

/** Encodes any frame to its JSON text. Throws WirehopError('bad_frame') if data is not JSON. */
export function encodeFrame(frame: Frame): string {
  return stringify([FrameCode[frame.type], ...fieldsOf(frame)]);
}

// ---- decoding ------------------------------------------------------------------------------

const bad = (message: string): DecodeError => ({ ok: false, code: 'bad_frame', message });

const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
function isName(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !CONTROL.test(v);
}

const isMember = (v: unknown): v is Member => isObject(v) && typeof v.id === 'string';

type Shape = (a: unknown[], l: Required<CodecLimits>) => string | Frame;

/** One validator per frame code: returns the frame, or a message saying what is wrong. */
const SHAPES: Record<number, { name: Frame['type']; arity: number; build: Shape }> = {};
function shape(code: FrameCode, name: Frame['type'], arity: number, build: Shape): void {
  SHAPES[code] = { name, arity, build };
}

const channelOk = (v: unknown, l: Required<CodecLimits>) => isName(v, l.maxChannelLength);
const nameOk = (v: unknown, l: Required<CodecLimits>) => isName(v, l.maxNameLength);
const CHANNEL_RULE = 'channel must be a string of 1..maxChannelLength characters without control characters';
const NAME_RULE = 'name must be a string of 1..maxNameLength characters without control characters';

shape(FrameCode.subscribe, 'subscribe', 3, ([, seq, channel], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !channelOk(channel, l) ? CHANNEL_RULE : { type: 'subscribe', seq, channel: channel as string });
shape(FrameCode.unsubscribe, 'unsubscribe', 3, ([, seq, channel], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !channelOk(channel, l) ? CHANNEL_RULE : { type: 'unsubscribe', seq, channel: channel as string });
shape(FrameCode.presence, 'presence', 3, ([, seq, channel], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !channelOk(channel, l) ? CHANNEL_RULE : { type: 'presence', seq, channel: channel as string });
shape(FrameCode.publish, 'publish', 5, ([, seq, channel, event, data], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !channelOk(channel, l) ? CHANNEL_RULE : !nameOk(event, l) ? NAME_RULE
    : { type: 'publish', seq, channel: channel as string, event: event as string, data });
shape(FrameCode.event, 'event', 5, ([, seq, channel, event, data], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !channelOk(channel, l) ? CHANNEL_RULE : !nameOk(event, l) ? NAME_RULE
    : { type: 'event', seq, channel: channel as string, event: event as string, data });
shape(FrameCode.send, 'send', 4, ([, seq, event, data], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !nameOk(event, l) ? NAME_RULE : { type: 'send', seq, event: event as string, data });
shape(FrameCode.message, 'message', 4, ([, seq, event, data], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !nameOk(event, l) ? NAME_RULE : { type: 'message', seq, event: event as string, data });
shape(FrameCode.request, 'request', 4, ([, seq, method, data], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !nameOk(method, l) ? NAME_RULE : { type: 'request', seq, method: method as string, data });
shape(FrameCode.reply, 'reply', 4, ([, seq, re, data]) =>
  !isSeq(seq) || !isSeq(re) ? 'seq and re must be positive integers' : { type: 'reply', seq, re: re as number, data });
shape(FrameCode.replyError, 'replyError', 5, ([, seq, re, code, message]) =>
  !isSeq(seq) || !isSeq(re) ? 'seq and re must be positive integers'
    : typeof code !== 'string' || typeof message !== 'string' ? 'code and message must be strings'
      : { type: 'replyError', seq, re: re as number, code, message });
shape(FrameCode.join, 'join', 4, ([, seq, channel, member], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !channelOk(channel, l) ? CHANNEL_RULE : !isMember(member) ? 'member must be {id: string, info?}'
    : { type: 'join', seq, channel: channel as string, member });
shape(FrameCode.leave, 'leave', 4, ([, seq, channel, member], l) =>
  !isSeq(seq) ? 'seq must be a positive integer' : !channelOk(channel, l) ? CHANNEL_RULE : !isMember(member) ? 'member must be {id: string, info?}'
    : { type: 'leave', seq, channel: channel as string, member });
shape(FrameCode.ack, 'ack', 2, ([, ack]) => (!isCount(ack) ? 'ack must be a non-negative integer' : { type: 'ack', ack }));
shape(FrameCode.ping, 'ping', 2, ([, n]) => (typeof n !== 'number' || !Number.isFinite(n) ? 'n must be a number' : { type: 'ping', n }));
shape(FrameCode.pong, 'pong', 2, ([, n]) => (typeof n !== 'number' || !Number.isFinite(n) ? 'n must be a number' : { type: 'pong', n }));
shape(FrameCode.error, 'error', 3, ([, code, message]) =>
  typeof code !== 'string' || typeof message !== 'string' ? 'code and message must be strings' : { type: 'error', code, message });
shape(FrameCode.bye, 'bye', 4, ([, code, message, ack]) =>
  typeof code !== 'string' || typeof message !== 'string' ? 'code and message must be strings'
    : !isCount(ack) ? 'ack must be a non-negative integer' : { type: 'bye', code, message, ack });
shape(FrameCode.hello, 'hello', 2, ([, body]) => checkHello(body));
shape(FrameCode.welcome, 'welcome', 2, ([, body]) => checkWelcome(body));

function checkHello(body: unknown): string | HelloFrame {
  if (!isObject(body)) return 'hello body must be an object';
  const { v, auth, sid, token, ack } = body;
  if (!isCount(v)) return 'hello.v must be the protocol version';
  if (sid !== undefined || token !== undefined || ack !== undefined) {
    if (typeof sid !== 'string' || sid.length === 0 || sid.length > 64) return 'hello.sid must be a session id';
    if (typeof token !== 'string' || token.length === 0 || token.length > 128) return 'hello.token is required with sid';
    if (!isCount(ack)) return 'hello.ack must be a non-negative integer';
  }
  const hello: HelloFrame = { type: 'hello', v };
  if (auth !== undefined) hello.auth = auth as HelloFrame['auth'];
  if (typeof sid === 'string') Object.assign(hello, { sid, token, ack });
  return hello;
}

function checkWelcome(body: unknown): string | WelcomeFrame {
  if (!isObject(body)) return 'welcome body must be an object';
  const { v, sid, token, resumed, ack, heartbeatMs, heartbeatTimeoutMs, sessionTtlMs, maxMessageBytes } = body;
  if (!isCount(v) || typeof sid !== 'string' || typeof resumed !== 'boolean' || !isCount(ack)) return 'welcome needs v, sid, resumed and ack';
  if (token !== undefined && typeof token !== 'string') return 'welcome.token must be a string';
  if (!isCount(heartbeatMs) || !isCount(heartbeatTimeoutMs) || !isCount(sessionTtlMs) || !isSeq(maxMessageBytes))
    return 'welcome needs heartbeatMs, heartbeatTimeoutMs, sessionTtlMs and maxMessageBytes';
  const welcome: WelcomeFrame = { type: 'welcome', v, sid, resumed, ack, heartbeatMs, heartbeatTimeoutMs, sessionTtlMs, maxMessageBytes };
  if (typeof token === 'string') welcome.token = token;
  return welcome;
}

const CLIENT_TYPES = new Set<Frame['type']>(['subscribe', 'unsubscribe', 'publish', 'send', 'request', 'presence', 'ack', 'ping', 'pong', 'hello']);
const SERVER_TYPES = new Set<Frame['type']>(['event', 'message', 'reply', 'replyError', 'join', 'leave', 'ack', 'ping', 'pong', 'error', 'welcome', 'bye']);

function decodeAny(text: string, allowed: Set<Frame['type']>, limits?: CodecLimits): Decoded<Frame> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('frame is not valid JSON');
  }
  if (!Array.isArray(value) || value.length === 0) return bad('frame must be a non-empty JSON array');
  const spec = typeof value[0] === 'number' ? SHAPES[value[0]] : undefined;
  if (!spec || !allowed.has(spec.name)) return { ok: false, code: 'unknown_frame', message: `unknown frame type ${JSON.stringify(value[0])}` };
  if (value.length !== spec.arity) return bad(`${spec.name} frame must have ${spec.arity} elements, got ${value.length}`);
  const l = {
    maxChannelLength: limits?.maxChannelLength ?? Defaults.maxChannelLength,
    maxNameLength: limits?.maxNameLength ?? Defaults.maxNameLength,
  };
  const built = spec.build(value, l);
  return typeof built === 'string' ? bad(`${spec.name}: ${built}`) : { ok: true, frame: built };
}

/** Decodes one frame a client sent. Never throws. */
export function decodeClientFrame(text: string, limits?: CodecLimits): Decoded<ClientFrame> {
  return decodeAny(text, CLIENT_TYPES, limits) as Decoded<ClientFrame>;
}

/** Decodes one frame a server sent. Never throws. */
export function decodeServerFrame(text: string, limits?: CodecLimits): Decoded<ServerFrame> {
  return decodeAny(text, SERVER_TYPES, limits) as Decoded<ServerFrame>;
}

/** A HELLO for a new session, or for resuming one. */
export function hello(opts: { auth?: HelloFrame['auth']; sid?: string; token?: string; ack?: number } = {}): HelloFrame {
  return { type: 'hello', v: PROTOCOL_VERSION, ...opts };
}

// ---- NDJSON batches (POST bodies and their answers) -----------------------------------------

/** Encodes frames as NDJSON: one frame per line, each line ending in `\n`. */
export function encodeBatch(encodedFrames: readonly string[]): string {
  return encodedFrames.length === 0 ? '' : encodedFrames.join('\n') + '\n';
}

/**
 * Splits an NDJSON body into frame texts. JSON text never contains a raw newline, so a newline
 * always ends a frame; empty lines (and a trailing `\r`) are ignored.
 */
export function splitBatch(body: string): string[] {
  const lines: string[] = [];
  for (const raw of body.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length > 0) lines.push(line);
  }
  return lines;
}

/** UTF-8 length of a string without allocating, for limits that are stated in bytes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
