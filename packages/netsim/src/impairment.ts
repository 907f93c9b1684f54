/**
 * What the simulated network does to traffic, and the pure scheduling math behind it. Kept free of
 * sockets and timers so the model is unit-tested exactly.
 */

export interface Impairment {
  /** One-way delay added in each direction, so RTT grows by twice this. */
  latencyMs: number;
  /** Uniform random extra delay in [0, jitterMs) per chunk; order is still preserved, as in TCP. */
  jitterMs: number;
  /** Per direction, per connection; 0 means unlimited. */
  bandwidthBytesPerSec: number;
  /**
   * Probability that a 1,460-byte segment is lost. TCP hides loss as a retransmission stall, so a
   * loss here holds the whole stream for `stallMs` rather than dropping bytes.
   */
  lossRate: number;
  /** How long one loss stalls the stream (Linux's minimum RTO is 200 ms). */
  stallMs: number;
  /** Probability, per chunk, that the connection is reset. */
  resetRate: number;
  /**
   * Nothing is forwarded either way; connections stay open and data waits, as on a dead path.
   * `true` holds every connection, `'websocket'` only upgraded ones (a path that kills WebSockets
   * while plain HTTP still flows, as some middleboxes do).
   */
  blackhole: boolean | 'websocket';
  /** New connections are accepted and closed at once (a refused route). */
  refuse: boolean;
  /**
   * WebSocket upgrades: 'pass' forwards them; 'strip' removes the Upgrade headers as a proxy without
   * WebSocket support does, so the server sees a plain GET; 'silent' lets the upgrade succeed and then
   * forwards nothing more on that connection (a proxy that accepts WebSockets and then stalls them).
   */
  upgrade: 'pass' | 'strip' | 'silent';
}

export const NO_IMPAIRMENT: Readonly<Impairment> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  bandwidthBytesPerSec: 0,
  lossRate: 0,
  stallMs: 200,
  resetRate: 0,
  blackhole: false,
  refuse: false,
  upgrade: 'pass',
});

/** Checks a partial impairment; throws a RangeError that names the bad field. */
export function validateImpairment(partial: Partial<Impairment>): void {
  const nonNegative = ['latencyMs', 'jitterMs', 'bandwidthBytesPerSec', 'stallMs'] as const;
  for (const key of nonNegative) {
    const v = partial[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`${key} must be a finite number ≥ 0, got ${v}`);
  }
  for (const key of ['lossRate', 'resetRate'] as const) {
    const v = partial[key];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`${key} must be a probability in [0, 1], got ${v}`);
  }
  if (partial.blackhole !== undefined && ![true, false, 'websocket'].includes(partial.blackhole))
    throw new RangeError(`blackhole must be true, false or 'websocket', got ${partial.blackhole}`);
  if (partial.upgrade !== undefined && !['pass', 'strip', 'silent'].includes(partial.upgrade))
    throw new RangeError(`upgrade must be 'pass', 'strip' or 'silent', got ${partial.upgrade}`);
}

/** The state of one direction of one connection, as far as scheduling is concerned. */
export interface LinkState {
  /** When the previous chunk is delivered: nothing may overtake it. */
  lastAt: number;
  /** When the simulated link finishes transmitting what it already has (bandwidth). */
  freeAt: number;
}

const SEGMENT = 1460;

/**
 * When a chunk of `bytes` handed to the link at `now` comes out the other end. Transmission takes
 * bytes/bandwidth after the link is free; then propagation adds latency and jitter; each lost
 * segment adds a stall; and delivery never precedes the previous chunk's.
 */
export function schedule(link: LinkState, now: number, bytes: number, imp: Impairment, random: () => number): number {
  let at = now;
  if (imp.bandwidthBytesPerSec > 0) {
    const start = Math.max(now, link.freeAt);
    link.freeAt = start + (bytes / imp.bandwidthBytesPerSec) * 1000;
    at = link.freeAt;
  }
  at += imp.latencyMs + (imp.jitterMs > 0 ? random() * imp.jitterMs : 0);
  if (imp.lossRate > 0) {
    const segments = Math.max(1, Math.ceil(bytes / SEGMENT));
    for (let i = 0; i < segments; i++) if (random() < imp.lossRate) at += imp.stallMs;
  }
  at = Math.max(at, link.lastAt);
  link.lastAt = at;
  return at;
}
