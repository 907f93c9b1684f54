/**
 * @wirehop/redis: a wirehop broker over Redis, for running several server processes behind a
 * plain load balancer. See README.md for the options, the key layout and the guarantees.
 *
 * @example
 * const broker = createRedisBroker({ url: process.env.REDIS_URL });
 * // hand `broker` to the wirehop server's `broker` option
 */
import { RedisBroker } from './redis-broker.js';
import type { RedisBrokerOptions } from './options.js';

export { RedisBroker } from './redis-broker.js';
export type { RedisBrokerOptions } from './options.js';

/** A broker over the Redis that `options` names; it connects when the server calls `start`. */
export function createRedisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  return new RedisBroker(options);
}
