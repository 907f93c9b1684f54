/**
 * Timing policy of a live transport, as pure functions: when to PING, when the link is dead, how
 * to smooth RTT samples. The client only runs the one timer these return.
 */

/** What to do now, and when to look again. */
export interface Beat {
  /** Nothing was received for `heartbeatMs + heartbeatTimeoutMs`: the transport is dead. */
  dead: boolean;
  /** Time to send a PING. */
  ping: boolean;
  /** Milliseconds until the next check. */
  wait: number;
}

/**
 * @param lastSeen when bytes last arrived on the downstream
 * @param nextPing when the next PING is due
 * @param deadAfter heartbeatMs + heartbeatTimeoutMs from WELCOME
 * @param pingEvery client PING period
 */
export function beat(now: number, lastSeen: number, nextPing: number, deadAfter: number, pingEvery: number): Beat {
  const deadline = lastSeen + deadAfter;
  if (now >= deadline) return { dead: true, ping: false, wait: 0 };
  const ping = now >= nextPing;
  // Capped: timers take at most 2^31 − 1 ms (a longer one fires at once), and Infinity means "never".
  return { dead: false, ping, wait: Math.min(2 ** 31 - 1, Math.max(1, Math.min(ping ? now + pingEvery : nextPing, deadline) - now)) };
}

/** Smoothed RTT as in TCP (RFC 6298): an EWMA with α = 1/8, seeded by the first sample. */
export function smoothRtt(previous: number | null, sample: number): number {
  return previous === null ? sample : previous + (sample - previous) / 8;
}
