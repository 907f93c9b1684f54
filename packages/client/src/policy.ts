/**
 * When to move a live session between transports, as pure functions of the quality window and the
 * time (nothing here reads a clock). Hysteresis three ways, so that a link hovering around a
 * threshold does not make the session flap: a band (bad above the thresholds, good only well below
 * them, neither in between), time (bad or good continuously for a while) and a minimum dwell
 * between two switches.
 */
import type { Meter } from './quality.js';
import type { PolicyDecision, PolicyInput, Quality } from './types.js';

/** The thresholds a verdict needs. */
export type Thresholds = Pick<PolicyInput['options'], 'maxRttMs' | 'maxLoss'>;

/** Good means RTT at most this fraction of maxRttMs... */
export const GOOD_RTT = 0.8;
/** ...and loss at most this fraction of maxLoss. */
export const GOOD_LOSS = 0.5;

/** Median RTT above maxRttMs, or loss above maxLoss. */
export function isBad(q: Quality, o: Thresholds): boolean {
  return q.loss > o.maxLoss || (q.rtt ?? 0) > o.maxRttMs;
}

/** Median RTT ≤ GOOD_RTT·maxRttMs and loss ≤ GOOD_LOSS·maxLoss (needs at least one answer). */
export function isGood(q: Quality, o: Thresholds): boolean {
  return goodSample(q.rtt, o) && q.loss <= o.maxLoss * GOOD_LOSS;
}

/** One sample bad on its own: lost, or slower than maxRttMs. */
export const badSample = (rtt: number | null, o: Thresholds): boolean => rtt === null || rtt > o.maxRttMs;
/** One sample good on its own: answered within GOOD_RTT·maxRttMs. */
export const goodSample = (rtt: number | null, o: Thresholds): boolean => rtt !== null && rtt <= o.maxRttMs * GOOD_RTT;

/** Since when the link has been continuously bad, and good. */
export type Streak = Pick<PolicyInput, 'badSince' | 'goodSince'>;

/**
 * The streaks after a new look at the window. A streak starts when the verdict turns, backdated to
 * the first sample of the newest run of samples that are bad (lost or slow) or good on their own:
 * the median turns only once half the window agrees, but the network changed when that run began.
 */
export function track(s: Streak, q: Quality, m: Pick<Meter, 'since'>, now: number, o: Thresholds): Streak {
  return {
    badSince: isBad(q, o) ? (s.badSince ?? m.since((r) => badSample(r, o)) ?? now) : null,
    goodSince: isGood(q, o) ? (s.goodSince ?? m.since((r) => goodSample(r, o)) ?? now) : null,
  };
}

/**
 * The default {@link TransportPolicy}: WebSocket → SSE ('degraded') once the link has been bad for
 * `downgradeAfterMs`; SSE → WebSocket ('recovered') once it has been good for `upgradeAfterMs` and
 * WebSocket is usable; never within `minDwellMs` of the last switch. Null: stay.
 * @example
 * // Never go back up on its own, otherwise as the default:
 * createClient({ url, adaptive: { policy: (i) => (i.current === 'websocket' ? defaultPolicy(i) : null) } });
 */
export function defaultPolicy(input: PolicyInput): PolicyDecision | null {
  const { now, options: o, badSince, goodSince } = input;
  if (now - input.lastSwitchAt < o.minDwellMs) return null;
  if (input.current === 'websocket') return badSince !== null && now - badSince >= o.downgradeAfterMs ? { to: 'sse', reason: 'degraded' } : null;
  return input.websocketUsable && goodSince !== null && now - goodSince >= o.upgradeAfterMs ? { to: 'websocket', reason: 'recovered' } : null;
}
