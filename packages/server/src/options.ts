/**
 * Server options: defaults, and validation at construction. A wrong or conflicting option is a
 * programmer error, so it throws at once with a message that says what to change, rather than
 * misbehaving under load later.
 */
import { Defaults, PIPELINED_FRAMES } from '@wirehop/protocol';
import type { Broker, HistoryLimits } from './broker.js';
import { MemoryBroker } from './memory-broker.js';
import type { AuthContext, ServerLimits, ServerOptions, Session, UserBase } from './types.js';

export type { ServerLimits } from './types.js';

export type OriginPolicy = 'same-origin' | '*' | ReadonlySet<string> | ((origin: string, request: Request) => boolean);

/** Options with every default filled in. */
export interface ResolvedOptions<U extends UserBase = UserBase> {
  path: string;
  authenticate: ((ctx: AuthContext) => U | Promise<U>) | undefined;
  origins: OriginPolicy;
  cors: false | { credentials: boolean; maxAgeS: number };
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  sessionTtlMs: number;
  helloTimeoutMs: number;
  tombstoneTtlMs: number;
  maxTombstones: number;
  ackEvery: number;
  ackDelayMs: number;
  limits: ServerLimits;
  broker: Broker;
  history: HistoryLimits;
  maxEventStreams: number;
  maxSessions: number;
  maxSessionsPerUser: number;
  maxEventLoopDelayMs: number;
  busyRetryMs: number;
  drainMs: number;
  onError: (error: unknown, where: { session?: Session<U>; phase: string }) => void;
}

/** Server-only defaults; the shared ones come from Defaults in @wirehop/protocol. */
export const ServerDefaults = {
  path: '/wirehop',
  tombstoneTtlMs: 300_000,
  maxTombstones: 10_000,
  cors: { credentials: true, maxAgeS: 600 },
  /** Channel history kept for recovery and late joiners: publications per channel, and their age. */
  history: { size: 1000, ttlMs: 300_000 },
  /** EventSource channel streams open at once. */
  maxEventStreams: 10_000,
  /** Live sessions one server process holds; a new one past it is refused with server_busy. */
  maxSessions: 100_000,
  /** Live sessions of one user id in one process; 0: no limit (guests may share an id). */
  maxSessionsPerUser: 0,
  /** How late the event loop may run before new sessions are refused with server_busy; 0: never. */
  maxEventLoopDelayMs: 0,
  /** How long a client refused with server_busy is told to wait before it tries again. */
  busyRetryMs: 5_000,
  /** POST /send bodies of one session in flight at once (the server applies them in order). */
  postsInFlight: 4,
  /** How long a server that closes waits for other nodes to take its sessions over (distributed broker only). */
  drainMs: 10_000,
  /** How long a POST body that overtook an earlier one waits for it. */
  postWaitMs: 10_000,
  /** WebSocket messages a client may send after HELLO before the WELCOME (held while authenticate() runs). */
  maxEarlyMessages: 1024,
  /** Channels one session may be subscribed to at once. */
  maxSubscriptions: 1024,
  /** Client frames of one session received but not yet dispatched (behind a pending authorize or publish hook). */
  maxPendingFrames: 10_000,
  /** Request and message handlers of one session running at once; the next waits for one to settle. */
  handlersInFlight: 64,
  /** Publications of one channel a node holds out of order while it reads the missing ones back from the broker. */
  maxPendingPublications: 10_000,
} as const;

/** Every limit's default: the shared ones, and the server's own. */
const LIMIT_DEFAULTS = {
  ...Defaults,
  postsInFlight: ServerDefaults.postsInFlight,
  postWaitMs: ServerDefaults.postWaitMs,
  maxEarlyMessages: ServerDefaults.maxEarlyMessages,
  maxSubscriptions: ServerDefaults.maxSubscriptions,
  maxPendingFrames: ServerDefaults.maxPendingFrames,
  handlersInFlight: ServerDefaults.handlersInFlight,
  maxPendingPublications: ServerDefaults.maxPendingPublications,
};

const TOP_KEYS = new Set([
  'path', 'authenticate', 'origins', 'cors', 'heartbeatMs', 'heartbeatTimeoutMs', 'sessionTtlMs', 'helloTimeoutMs',
  'tombstoneTtlMs', 'maxTombstones', 'ackEvery', 'ackDelayMs', 'limits', 'onError', 'broker', 'history',
  'maxEventStreams', 'maxSessions', 'maxSessionsPerUser', 'maxEventLoopDelayMs', 'busyRetryMs', 'drainMs',
]);
const LIMIT_KEYS = [
  'maxMessageBytes', 'maxBatchBytes', 'maxBatchFrames', 'postsInFlight', 'postWaitMs', 'replayBufferFrames', 'replayBufferBytes',
  'highWaterMarkBytes', 'maxChannelLength', 'maxNameLength', 'maxEarlyMessages', 'maxSubscriptions',
  'maxPendingFrames', 'handlersInFlight', 'maxPendingPublications',
] as const;

/** setTimeout clamps larger delays to 1 ms, which would turn a long timeout into a busy loop. */
const MAX_TIMER_MS = 2_147_483_647;

function fail(message: string): never {
  throw new TypeError(`wirehop: ${message}`);
}

function integer(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    fail(`options.${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  return value;
}

function resolveLimits(input: unknown): ServerLimits {
  if (input !== undefined && (typeof input !== 'object' || input === null)) fail('options.limits must be an object');
  const given = (input ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given))
    if (!(LIMIT_KEYS as readonly string[]).includes(key)) fail(`unknown option limits.${key} (known: ${LIMIT_KEYS.join(', ')})`);
  const limits = {} as ServerLimits;
  for (const key of LIMIT_KEYS) {
    // A client may send PIPELINED_FRAMES behind its HELLO: a server that refused them would refuse every connection.
    const min = key === 'maxEarlyMessages' || key === 'maxPendingFrames' ? PIPELINED_FRAMES : 1;
    limits[key] = integer(`limits.${key}`, given[key], LIMIT_DEFAULTS[key], min, key === 'postWaitMs' ? MAX_TIMER_MS : undefined);
  }
  if (limits.maxMessageBytes > limits.maxBatchBytes)
    fail(`limits.maxMessageBytes (${limits.maxMessageBytes}) must not exceed limits.maxBatchBytes (${limits.maxBatchBytes}): a frame must fit in one POST`);
  if (limits.maxMessageBytes > limits.replayBufferBytes)
    fail(`limits.maxMessageBytes (${limits.maxMessageBytes}) must not exceed limits.replayBufferBytes (${limits.replayBufferBytes}): one frame must fit in the replay buffer`);
  return limits;
}

/** Strips a trailing slash ('/wirehop/' → '/wirehop'); '/' stays '/'. */
function resolvePath(value: unknown): string {
  if (value === undefined) return ServerDefaults.path;
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value))
    fail(`options.path must be a URL path starting with '/' (got ${JSON.stringify(value)})`);
  const path = value.length > 1 ? value.replace(/\/+$/, '') : value;
  return path === '' ? '/' : path;
}

function resolveOrigins(value: unknown): OriginPolicy {
  if (value === undefined || value === 'same-origin') return 'same-origin';
  if (value === '*') return '*';
  if (typeof value === 'function') return value as OriginPolicy;
  if (!Array.isArray(value)) fail(`options.origins must be 'same-origin', '*', an array of origins or a function`);
  const set = new Set<string>();
  for (const entry of value) {
    let origin: string | undefined;
    try {
      origin = typeof entry === 'string' ? new URL(entry).origin : undefined;
    } catch {
      origin = undefined;
    }
    // An origin is scheme://host[:port] only: a path or trailing slash would never match a browser's Origin.
    if (!origin || origin === 'null' || origin !== entry.toLowerCase())
      fail(`options.origins entry ${JSON.stringify(entry)} is not an origin like 'https://example.com'`);
    set.add(origin);
  }
  return set;
}

function resolveCors(value: unknown): ResolvedOptions['cors'] {
  if (value === false) return false;
  if (value === undefined) return { ...ServerDefaults.cors };
  if (typeof value !== 'object' || value === null) fail('options.cors must be false or { credentials?, maxAgeS? }');
  const { credentials, maxAgeS, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) fail(`unknown option cors.${unknown[0]} (known: credentials, maxAgeS)`);
  if (credentials !== undefined && typeof credentials !== 'boolean') fail('options.cors.credentials must be a boolean');
  return {
    credentials: credentials ?? ServerDefaults.cors.credentials,
    maxAgeS: integer('cors.maxAgeS', maxAgeS, ServerDefaults.cors.maxAgeS, 0),
  };
}

function optionalFunction<F>(name: string, value: unknown): F | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`options.${name} must be a function`);
  return value as F | undefined;
}

/** `false` keeps no history (offsets still count); an object overrides the defaults it names. */
export function resolveHistory(name: string, value: unknown, fallback: HistoryLimits): HistoryLimits {
  if (value === undefined) return fallback;
  if (value === false) return { size: 0, ttlMs: 0 };
  if (typeof value !== 'object' || value === null) fail(`${name} must be false or { size?, ttlMs? }`);
  const { size, ttlMs, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) fail(`unknown option ${name}.${unknown[0]} (known: size, ttlMs)`);
  return { size: integer(`${name}.size`, size, fallback.size, 0), ttlMs: integer(`${name}.ttlMs`, ttlMs, fallback.ttlMs, 0, MAX_TIMER_MS) };
}

function resolveBroker(value: unknown): Broker {
  if (value === undefined) return new MemoryBroker();
  const b = value as Partial<Broker>;
  if (typeof value !== 'object' || value === null || typeof b.publish !== 'function' || typeof b.subscribe !== 'function' || typeof b.start !== 'function')
    fail('options.broker must be a Broker (e.g. createRedisBroker() from @wirehop/redis)');
  return value as Broker;
}

const defaultOnError = (error: unknown, where: { phase: string }) => console.error(`[wirehop] ${where.phase}:`, error);

/**
 * Fills in defaults and validates. Throws TypeError('wirehop: …') for unknown keys, values out of
 * range, and limits that contradict each other.
 */
export function resolveOptions<U extends UserBase>(options: ServerOptions<U> = {}): ResolvedOptions<U> {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  for (const key of Object.keys(options)) if (!TOP_KEYS.has(key)) fail(`unknown option ${key} (known: ${[...TOP_KEYS].join(', ')})`);
  const o = options as Record<string, unknown>;
  return {
    path: resolvePath(o.path),
    authenticate: optionalFunction('authenticate', o.authenticate),
    origins: resolveOrigins(o.origins),
    cors: resolveCors(o.cors),
    heartbeatMs: integer('heartbeatMs', o.heartbeatMs, Defaults.heartbeatMs, 1, MAX_TIMER_MS),
    heartbeatTimeoutMs: integer('heartbeatTimeoutMs', o.heartbeatTimeoutMs, Defaults.heartbeatTimeoutMs, 1, MAX_TIMER_MS),
    sessionTtlMs: integer('sessionTtlMs', o.sessionTtlMs, Defaults.sessionTtlMs, 1, MAX_TIMER_MS),
    helloTimeoutMs: integer('helloTimeoutMs', o.helloTimeoutMs, Defaults.helloTimeoutMs, 1, MAX_TIMER_MS),
    tombstoneTtlMs: integer('tombstoneTtlMs', o.tombstoneTtlMs, ServerDefaults.tombstoneTtlMs, 0, MAX_TIMER_MS),
    maxTombstones: integer('maxTombstones', o.maxTombstones, ServerDefaults.maxTombstones, 0),
    ackEvery: integer('ackEvery', o.ackEvery, Defaults.ackEvery, 1),
    ackDelayMs: integer('ackDelayMs', o.ackDelayMs, Defaults.ackDelayMs, 0, MAX_TIMER_MS),
    limits: resolveLimits(o.limits),
    broker: resolveBroker(o.broker),
    history: resolveHistory('options.history', o.history, ServerDefaults.history),
    maxEventStreams: integer('maxEventStreams', o.maxEventStreams, ServerDefaults.maxEventStreams, 0),
    maxSessions: integer('maxSessions', o.maxSessions, ServerDefaults.maxSessions, 1),
    maxSessionsPerUser: integer('maxSessionsPerUser', o.maxSessionsPerUser, ServerDefaults.maxSessionsPerUser, 0),
    maxEventLoopDelayMs: integer('maxEventLoopDelayMs', o.maxEventLoopDelayMs, ServerDefaults.maxEventLoopDelayMs, 0, MAX_TIMER_MS),
    busyRetryMs: integer('busyRetryMs', o.busyRetryMs, ServerDefaults.busyRetryMs, 0, MAX_TIMER_MS),
    drainMs: integer('drainMs', o.drainMs, ServerDefaults.drainMs, 0, MAX_TIMER_MS),
    onError: optionalFunction<ResolvedOptions<U>['onError']>('onError', o.onError) ?? defaultOnError,
  };
}
