/**
 * Encoding and decoding of frames. Pure functions: decoding wire input never throws, it returns a
 * result with a stable error code; encoding throws only for programmer errors (data that is not
 * JSON), with a message that says what to fix.
 */
import { WirehopError } from './codes.js';
import {
  FrameCode,
  PROTOCOL_VERSION,
  type AckFrame,
  type ClientFrame,
  type Frame,
  type FrameType,
  type HelloFrame,
  type PingFrame,
  type PongFrame,
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

/** Where each field of a frame sits: the array elements after the type code, in order (protocol.md §2). */
type Layout = Readonly<Partial<Record<FrameType, readonly string[]>>>;

// The layouts, one table per direction (the control frames both send are in both), so that a
// client bundle carries what it encodes (control frames, HELLO) and decodes (server frames), and no
// table of the frames only a server reads. One layout drives encoding and decoding, so the two
// cannot disagree. HELLO and WELCOME carry one object, `body`: the frame without its type. The
// tables are written out, not spread from one another: a bundler keeps a table built with a spread
// even where nothing uses it.

/** What a client sends besides its reliable frames, which it builds with encodeTail and encodeWithTail. */
const CLIENT_CONTROL: Layout = { ack: ['ack'], ping: ['n'], pong: ['n'], hello: ['body'] };
const CLIENT_LAYOUT: Layout = {
  subscribe: ['seq', 'channel', 'since'],
  unsubscribe: ['seq', 'channel'],
  presence: ['seq', 'channel'],
  history: ['seq', 'channel', 'since', 'limit'],
  publish: ['seq', 'channel', 'event', 'data'],
  send: ['seq', 'event', 'data'],
  request: ['seq', 'method', 'data'],
  ack: ['ack'],
  ping: ['n'],
  pong: ['n'],
  hello: ['body'],
};
const SERVER_LAYOUT: Layout = {
  event: ['seq', 'channel', 'event', 'data', 'offset'],
  message: ['seq', 'event', 'data'],
  reply: ['seq', 're', 'data'],
  replyError: ['seq', 're', 'code', 'message'],
  join: ['seq', 'channel', 'member'],
  leave: ['seq', 'channel', 'member'],
  gap: ['seq', 'channel', 'code', 'message', 'position'],
  ack: ['ack'],
  ping: ['n'],
  pong: ['n'],
  error: ['code', 'message', 'retryMs'],
  bye: ['code', 'message', 'ack'],
  welcome: ['body'],
};

/** Frame types whose last field may be left out (absent means "none"): SUBSCRIBE's `since`, ERROR's `retryMs`. */
const optionalLast = (type: string) => type === 'subscribe' || type === 'error';

function encodeWith(frame: Frame, layout: Layout): string {
  const { type, ...body } = frame;
  const fields = body as Record<string, unknown>;
  let keys = layout[type]!;
  if (optionalLast(type) && fields[keys[keys.length - 1]!] == null) keys = keys.slice(0, -1);
  return stringify([FrameCode[type], ...keys.map((key) => (key === 'body' ? body : (fields[key] ?? null)))]);
}

/** Encodes any frame to its JSON text. Throws WirehopError('bad_frame') if data is not JSON. */
export function encodeFrame(frame: Frame): string {
  return encodeWith(frame, frame.type in SERVER_LAYOUT ? SERVER_LAYOUT : CLIENT_LAYOUT);
}

/** A frame a client sends besides its reliable ones (those it builds with encodeTail). */
export type ClientControlFrame = AckFrame | PingFrame | PongFrame | HelloFrame;

/**
 * {@link encodeFrame} for what a client sends besides its reliable frames: it carries no table of
 * those, which a browser bundle then leaves out.
 */
export function encodeClientControl(frame: ClientControlFrame): string {
  return encodeWith(frame, CLIENT_CONTROL);
}

// ---- decoding ------------------------------------------------------------------------------

const bad = (message: string): DecodeError => ({ ok: false, code: 'bad_frame', message });

const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
/** A count on the wire (an ack, a retry hint, an offset): a non-negative safe integer. */
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
/** Epochs are short opaque strings; 64 characters leaves room for any broker's. */
const isPosition = (v: unknown): boolean => isObject(v) && typeof v.epoch === 'string' && v.epoch.length <= 64 && isCount(v.offset);

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * True if `name` is a valid channel name (`kind` 'channel') or event or method name (protocol.md
 * §2): 1 to maxChannelLength (or maxNameLength) characters, no control characters.
 */
export function isValidName(name: unknown, kind: 'channel' | 'name', limits?: CodecLimits): name is string {
  const max = kind === 'channel' ? (limits?.maxChannelLength ?? Defaults.maxChannelLength) : (limits?.maxNameLength ?? Defaults.maxNameLength);
  return typeof name === 'string' && name.length > 0 && name.length <= max && !CONTROL_CHARS.test(name);
}

type Rule = [check: (v: unknown, limits?: CodecLimits) => boolean, expected: string];
// Each rule once, named: a bundler drops a table that is unused only if it reads no other table.
const SEQ: Rule = [isSeq, 'a positive integer'];
const COUNT: Rule = [isCount, 'a non-negative integer'];
const NUMBER: Rule = [(v) => typeof v === 'number' && Number.isFinite(v), 'a number'];
const CHANNEL: Rule = [(v, l) => isValidName(v, 'channel', l), 'a string of 1..maxChannelLength characters without control characters'];
const NAME: Rule = [(v, l) => isValidName(v, 'name', l), 'a string of 1..maxNameLength characters without control characters'];
const STRING: Rule = [isString, 'a string'];
const ANY: Rule = [() => true, 'any JSON'];

/**
 * What each field must hold, by its name in the layouts: the same rule in every frame type. One
 * table per direction, so that a client bundle carries no rule for fields only client frames have.
 */
const SERVER_RULES: Record<string, Rule> = {
  seq: SEQ,
  re: SEQ,
  ack: COUNT,
  n: NUMBER,
  channel: CHANNEL,
  event: NAME,
  code: STRING,
  message: STRING,
  retryMs: COUNT,
  member: [(v) => isObject(v) && typeof v.id === 'string', '{id: string, info?}'],
  data: ANY,
  offset: COUNT,
  position: [isPosition, '{epoch: string, offset: integer ≥ 0}'],
};
const CLIENT_RULES: Record<string, Rule> = {
  seq: SEQ,
  ack: COUNT,
  n: NUMBER,
  channel: CHANNEL,
  event: NAME,
  method: NAME,
  data: ANY,
  limit: COUNT,
  since: [(v) => v === null || isPosition(v), 'null or {epoch: string, offset: integer ≥ 0}'],
};

/** Frame type names by their code. */
const TYPES: Record<number, FrameType> = {};
for (const [type, code] of Object.entries(FrameCode)) TYPES[code] = type as FrameType;

/** What one side accepts: the layouts of the frames its peer may send, their fields' rules, and the check of HELLO or WELCOME's body. */
interface Side {
  layout: Layout;
  rules: Record<string, Rule>;
  body: (body: unknown) => string | Frame;
}

function decodeFrame(text: string, side: Side, limits?: CodecLimits): Decoded<Frame> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('frame is not valid JSON');
  }
  if (!Array.isArray(value) || value.length === 0) return bad('frame must be a non-empty JSON array');
  const type = typeof value[0] === 'number' ? TYPES[value[0]] : undefined;
  let keys = type && side.layout[type];
  if (!type || !keys) return { ok: false, code: 'unknown_frame', message: `unknown frame type ${JSON.stringify(value[0])}` };
  if (value.length === keys.length && optionalLast(type)) keys = keys.slice(0, -1);
  if (value.length !== keys.length + 1) return bad(`${type} frame must have ${keys.length + 1} elements, got ${value.length}`);
  if (keys[0] === 'body') {
    const built = side.body(value[1]);
    return typeof built === 'string' ? bad(`${type}: ${built}`) : { ok: true, frame: built };
  }
  const frame: Record<string, unknown> = { type };
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const [check, expected] = side.rules[key]!;
    if (!check(value[i + 1], limits)) return bad(`${type}: ${key} must be ${expected}`);
    if (value[i + 1] !== null || key !== 'since' || type === 'history') frame[key] = value[i + 1];
  }
  return { ok: true, frame: frame as unknown as Frame };
}

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

/** WELCOME's fields, in order, with their rules; `token` only comes with a new session. */
const WELCOME: Array<[key: keyof WelcomeFrame, rule: Rule, optional?: true]> = [
  ['v', COUNT],
  ['sid', STRING],
  ['resumed', [(v) => typeof v === 'boolean', 'a boolean']],
  ['ack', COUNT],
  ['heartbeatMs', COUNT],
  ['heartbeatTimeoutMs', COUNT],
  ['sessionTtlMs', COUNT],
  ['maxMessageBytes', SEQ],
  ['token', STRING, true],
  ['batch', SEQ, true],
  ['posts', SEQ, true],
  ['held', COUNT, true],
  ['replayFrames', SEQ, true],
  ['replayBytes', SEQ, true],
];

function checkWelcome(body: unknown): string | WelcomeFrame {
  if (!isObject(body)) return 'welcome body must be an object';
  const welcome: Record<string, unknown> = { type: 'welcome' };
  for (const [key, [check, expected], optional] of WELCOME) {
    const value = body[key];
    if (optional && value === undefined) continue;
    if (!check(value)) return `welcome.${key} must be ${expected}`;
    welcome[key] = value;
  }
  return welcome as unknown as WelcomeFrame;
}

// One table per side, so that a client bundle carries no check of frames only servers receive (and back).
const FROM_CLIENT: Side = { layout: CLIENT_LAYOUT, rules: CLIENT_RULES, body: checkHello };
const FROM_SERVER: Side = { layout: SERVER_LAYOUT, rules: SERVER_RULES, body: checkWelcome };

/** Decodes one frame a client sent. Never throws. */
export function decodeClientFrame(text: string, limits?: CodecLimits): Decoded<ClientFrame> {
  return decodeFrame(text, FROM_CLIENT, limits) as Decoded<ClientFrame>;
}

/** Decodes one frame a server sent. Never throws. */
export function decodeServerFrame(text: string, limits?: CodecLimits): Decoded<ServerFrame> {
  return decodeFrame(text, FROM_SERVER, limits) as Decoded<ServerFrame>;
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
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    // A high surrogate followed by a low one: one code point, 4 bytes for the pair. Lone ones are 3.
    if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes++;
      i++;
    }
  }
  return bytes;
}
