/**
 * Retry delays. Reconnects use capped exponential backoff with full jitter (a uniformly random
 * delay between 0 and the capped exponential), which spreads a crowd of clients reconnecting after
 * a server restart. See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/.
 */

/** min(maxMs, initialMs·2^attempt): the plain schedule, used as is for WebSocket re-probes. */
export function capped(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt));
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first): random in [0, min(maxMs, initialMs·2^attempt)).
 * @param random injectable for tests; default Math.random
 */
export function backoff(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * capped(attempt, initialMs, maxMs));
}
