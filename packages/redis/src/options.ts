/**
 * The broker's options, their defaults, and the two Redis connections made from them.
 */
import { WirehopError } from '@wirehop/protocol';
import { Redis, type RedisOptions } from 'ioredis';
import { nanoid } from 'nanoid';

export interface RedisBrokerOptions {
  /**
   * The Redis to connect to, e.g. `redis://:password@10.0.0.5:6379/0` or `rediss://…` for TLS.
   * Default `redis://127.0.0.1:6379` (when neither `url` nor `createClient` is given; `redis` may
   * still set host and port).
   */
  url?: string;
  /** ioredis options for the connections the broker makes (applied over `url`). Default none. */
  redis?: RedisOptions;
  /**
   * Makes the connections yourself (Sentinel, custom TLS…). Called twice, with 'command' and
   * 'subscriber'; each call must return a new client that only the broker uses (it subscribes on
   * one, defines scripts on the other, and quits both at close). The broker sets the fail-fast
   * options listed in the README on them. Default: `new Redis(url, redis)`.
   */
  createClient?: (role: 'command' | 'subscriber') => Redis;
  /** Prefix of every key and pub/sub channel, so that several apps can share one Redis. Default `'wirehop:'`. */
  prefix?: string;
  /** This node's id, unique among live nodes. Default: a random 12-character id. */
  nodeId?: string;
  /**
   * Lifetime of this node's liveness key, refreshed every third of it. A node that stops
   * refreshing (crashed, partitioned) is reaped by the others: its presence leaves and its session
   * claims go, within about `nodeTtlMs * 4 / 3`. Default 5 000 ms.
   */
  nodeTtlMs?: number;
  /**
   * How long one Redis command may take before the operation rejects with `broker_unavailable`
   * (a stalled connection: commands on a closed one reject at once). Default 2 000 ms.
   */
  commandTimeoutMs?: number;
  /**
   * How long a channel's epoch and offset outlive its last publish or subscribe (or its history
   * ttl, if longer). A channel idle longer starts a new epoch: resuming it reports a gap. Default 86 400 000 ms (a day).
   */
  channelTtlMs?: number;
  /**
   * Expiry of a session claim; the node refreshes its claims every half of it, so a claim outlives
   * its node only when every node is gone (nobody is left to reap). Default 86 400 000 ms (a day).
   */
  sessionTtlMs?: number;
  /**
   * Connection errors reach `host.error` at most once per this interval (the rest are counted in
   * the next report), so that a Redis that is down does not flood the log. Default 10 000 ms.
   */
  errorIntervalMs?: number;
}

export interface ResolvedOptions {
  prefix: string;
  nodeId: string;
  nodeTtlMs: number;
  commandTimeoutMs: number;
  channelTtlMs: number;
  sessionTtlMs: number;
  errorIntervalMs: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  return value;
}

export function resolveOptions(options: RedisBrokerOptions): ResolvedOptions {
  return {
    prefix: options.prefix ?? 'wirehop:',
    nodeId: options.nodeId ?? nanoid(12),
    nodeTtlMs: positive('nodeTtlMs', options.nodeTtlMs, 5_000),
    commandTimeoutMs: positive('commandTimeoutMs', options.commandTimeoutMs, 2_000),
    channelTtlMs: positive('channelTtlMs', options.channelTtlMs, 86_400_000),
    sessionTtlMs: positive('sessionTtlMs', options.sessionTtlMs, 86_400_000),
    errorIntervalMs: positive('errorIntervalMs', options.errorIntervalMs, 10_000),
  };
}

/**
 * The settings that make a broker operation fail fast instead of waiting for Redis to come back:
 * no offline queue (a command while disconnected rejects at once), in-flight commands rejected
 * when the connection drops rather than resent later (maxRetriesPerRequest 0), a timeout for a
 * stalled connection, and subscriptions restored by the broker itself, so that it knows when
 * they are back.
 */
function failFast(commandTimeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: commandTimeoutMs,
  };
}

export function makeClient(options: RedisBrokerOptions, role: 'command' | 'subscriber', commandTimeoutMs: number): Redis {
  const forced = failFast(commandTimeoutMs);
  if (options.createClient) {
    const client = options.createClient(role);
    Object.assign(client.options, forced);
    return client;
  }
  const settings: RedisOptions = { ...options.redis, ...forced, lazyConnect: true };
  return options.url ? new Redis(options.url, settings) : new Redis(settings);
}

/** What a failed Redis operation rejects with: `broker_unavailable`, the cause kept. */
export function unavailable(error: unknown, what: string): WirehopError {
  if (error instanceof WirehopError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new WirehopError('broker_unavailable', `${what}: ${message}`, { cause: error });
}
