/**
 * The network estimate behind adaptive switching, free of IO and timers (every time is passed in):
 * a sliding window of samples, each the RTT of one PING or a loss, stamped with the time its PING
 * left. Stamping by departure makes a streak start when the network changed, not when the last
 * answer of a slow link finally arrived.
 */
import type { Quality } from './types.js';

/** Median RTT, loss fraction and jitter of samples in departure order (null = lost). */
export function summarize(rtts: ReadonlyArray<number | null>): Quality {
  const got = rtts.filter((r): r is number => r !== null);
  const sorted = [...got].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  let jitter = 0;
  for (let i = 1; i < got.length; i++) jitter += Math.abs(got[i]! - got[i - 1]!);
  return {
    rtt: sorted.length ? (sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2) : null,
    loss: rtts.length ? (rtts.length - got.length) / rtts.length : 0,
    jitter: got.length > 1 ? jitter / (got.length - 1) : null,
    samples: rtts.length,
  };
}

/** The quality window of the transport carrying the session. */
export interface Meter {
  /** A PING left at `now`; `now` is its `n`, which the PONG echoes. */
  ping(now: number): void;
  /** A PONG echoing `n` arrived: the RTT sample, or undefined if `n` was not pending or came too late (then it is a loss). */
  pong(n: number, now: number): number | undefined;
  /** PINGs pending for `timeoutMs` or more become losses. */
  expire(now: number): void;
  /** Drops pending PINGs: their transport is gone, so a missing PONG says nothing about the network. */
  forget(): void;
  /** A sample timed otherwise (HELLO → WELCOME), as if a PING had left at `at`. */
  add(at: number, rtt: number | null): void;
  /** The estimate over samples that left after `now - windowMs`. */
  quality(now: number): Quality;
  /** When the newest run of samples passing `test` began (its first departure); null if the newest sample fails it. */
  since(test: (rtt: number | null) => boolean): number | null;
}

/**
 * @param windowMs samples that left longer ago leave the window...
 * @param timeoutMs a PING unanswered this long is a loss
 * @param sampled told of each sample once the window has it, and when its PING left (the probe
 *   counts them; adaptive.ts watches for a steady link)
 * @param keep ...unless fewer than `samples` would be left: then the newest `samples` stay, if
 *   they left within `spanMs`. A link sampled less often while steady keeps as many samples as at
 *   the regular pace, so one lost PING weighs no more than it would there.
 */
export function createMeter(windowMs: number, timeoutMs: number, sampled?: (rtt: number | null, at: number) => void, keep = { samples: 0, spanMs: 0 }): Meter {
  let samples: Array<[at: number, rtt: number | null]> = [];
  let pending: number[] = [];
  const prune = (now: number) => {
    // In departure order: once one is too old to stay, so is every one before it.
    let i = samples.length;
    while (i > 0 && (samples[i - 1]![0] > now - windowMs || (samples.length - i < keep.samples && samples[i - 1]![0] > now - keep.spanMs))) i--;
    return i > 0 ? (samples = samples.slice(i)) : samples;
  };
  const add = (at: number, rtt: number | null) => {
    // Answers can overtake losses that are detected later: keep departure order.
    let i = samples.length;
    while (i > 0 && samples[i - 1]![0] > at) i--;
    samples.splice(i, 0, [at, rtt]);
    prune(samples[samples.length - 1]![0]);
    sampled?.(rtt, at);
  };
  return {
    ping: (now) => void pending.push(now),
    pong(n, now) {
      const i = pending.indexOf(n);
      if (i < 0) return undefined;
      pending.splice(i, 1);
      const rtt = now - n < timeoutMs ? Math.max(0, now - n) : null;
      add(n, rtt);
      return rtt ?? undefined;
    },
    expire(now) {
      // The young ones stay pending; the others become losses. `sampled` may send a PING: it
      // must find `pending` already updated.
      const old = pending.filter((n) => now - n >= timeoutMs);
      if (old.length) pending = pending.filter((n) => now - n < timeoutMs);
      for (const n of old) add(n, null);
    },
    forget: () => void (pending = []),
    add,
    quality: (now) => summarize(prune(now).map(([, rtt]) => rtt)),
    since(test) {
      let at: number | null = null;
      for (let i = samples.length; i-- && test(samples[i]![1]); ) at = samples[i]![0];
      return at;
    },
  };
}
