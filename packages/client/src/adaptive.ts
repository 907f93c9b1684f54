/**
 * Adaptive transport: turns the quality window into switch requests. It runs the probe, keeps the
 * streaks the policy reads, tracks whether WebSocket is usable here, and re-probes
 * it in the background with capped exponential backoff after it failed. The decisions are pure
 * (policy.ts); this only feeds them and passes them on. No downgrade is permanent.
 */
import { capped } from './backoff.js';
import { badSample, defaultPolicy, goodSample, isBad, track, type Streak } from './policy.js';
import { summarize, type Meter } from './quality.js';
import type { AdaptiveOptions, PolicyDecision, TransportName } from './types.js';

/**
 * A flap guard on top of any policy: an automatic switch never comes within this long of the
 * switch before the last one, so there are at most two in any minute, whatever the network does.
 */
export const FLAP_WINDOW_MS = 60_000;

/** AdaptiveOptions with every default filled in. */
export type AdaptiveConfig = Required<Omit<AdaptiveOptions, 'probe' | 'reprobe'>> & {
  probe: false | { count: number };
  reprobe: { initialDelayMs: number; maxDelayMs: number };
};

/** The defaults (also used for manual switches and stats when adaptive switching is off). */
export function adaptiveConfig(options: AdaptiveOptions | false | undefined): AdaptiveConfig {
  const o = options || {};
  const p = o.probe;
  return {
    maxRttMs: o.maxRttMs ?? 300,
    maxLoss: o.maxLoss ?? 0.2,
    downgradeAfterMs: o.downgradeAfterMs ?? 3000,
    upgradeAfterMs: o.upgradeAfterMs ?? 10_000,
    minDwellMs: o.minDwellMs ?? 5000,
    sampleIntervalMs: o.sampleIntervalMs ?? 1000,
    steadySampleIntervalMs: o.steadySampleIntervalMs ?? 5000,
    windowMs: o.windowMs ?? 5000,
    pingTimeoutMs: o.pingTimeoutMs ?? 1000,
    probe: p === false ? false : { count: p?.count ?? 3 },
    websocketTimeoutMs: o.websocketTimeoutMs ?? 1500,
    reprobe: { initialDelayMs: o.reprobe?.initialDelayMs ?? 5000, maxDelayMs: o.reprobe?.maxDelayMs ?? 60_000 },
    policy: o.policy ?? defaultPolicy,
  };
}

/**
 * What the quality window keeps besides its last `windowMs`: as many samples as the regular pace
 * puts in it, as far back as the steady pace needs to take them (createMeter's `keep`).
 */
export function keptSamples(c: AdaptiveConfig): { samples: number; spanMs: number } {
  return { samples: Math.max(1, Math.round(c.windowMs / c.sampleIntervalMs)), spanMs: c.windowMs * Math.max(1, c.steadySampleIntervalMs / c.sampleIntervalMs) };
}

/** What adaptive switching needs from the connection. */
export interface AdaptiveHost {
  readonly meter: Meter;
  /** The transport carrying the session, or undefined while none does. */
  current(): TransportName | undefined;
  /** A switch runs or waits: no automatic decision meanwhile. */
  busy(): boolean;
  /** Asks for an automatic switch (see Job.confirm). */
  request(to: TransportName, reason: string, confirm?: () => boolean): void;
  /** Sends a PING on the transport carrying the session now, if one does: the probe's next sample. */
  ping(): void;
  /** A policy that threw. */
  report(error: unknown): void;
}

export interface Adaptive {
  /** websocketUsable: false after WebSocket failed here, until a re-probe gets a PONG through one. */
  usable: boolean;
  /**
   * Starts the probe (protocol.md §5, "Probe"): the next samples of the link carrying the session,
   * taken back to back, decide where it should run. The first one moves the session at once if it
   * points elsewhere, and the whole count again if it disagrees. A no-op when disabled.
   */
  probe(): void;
  /** Each sample as the meter takes it (an RTT, or null for a loss), and when its PING left; evaluate() comes next, as after any sample. */
  sampled(rtt: number | null, at: number): void;
  /**
   * The link has said the same for a whole window, and nothing in it is for the policy to act on:
   * good on WebSocket; on SSE bad, or anything while WebSocket is unusable here. The connection
   * then samples every `steadySampleIntervalMs` rather than `sampleIntervalMs`.
   */
  steady(now: number): boolean;
  /** After each sample: update the streaks and maybe ask for a switch. */
  evaluate(now: number): void;
  /** A transport failed to carry the session (WebSocket: it is unusable), or a switch to it failed: hold automatic switches, with backoff. */
  failed(name: TransportName, now: number): void;
  /** A WebSocket answered: usable again. */
  works(): void;
  /** A switch completed. */
  switched(now: number): void;
  /** The session is (re)attached: not steady until its samples say so, and re-probe WebSocket when the hold is over, if it is unusable. */
  attached(): void;
  close(): void;
}

export function createAdaptive(c: AdaptiveConfig, host: AdaptiveHost): Adaptive {
  const { meter } = host;
  let streak: Streak = { badSince: null, goodSince: null };
  let lastSwitchAt = 0;
  let switchBefore = 0;
  /** No automatic switch (or re-probe) before this; pushed back with backoff by failures. */
  let hold = 0;
  let tries = 0;
  /** The probe's verdict, until the next evaluation acts on it. */
  let probed: TransportName | undefined;
  /** The samples of the probe under way. */
  let probing: Array<number | null> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** When the PING left of the first sample of the newest run that agrees with where the session is; null if the newest does not. */
  let calm: number | null = null;
  /** Whether a sample says the session is where the default thresholds want it (see Adaptive.steady). */
  const agrees = (rtt: number | null) => {
    const on = host.current();
    return on === 'websocket' ? goodSample(rtt, c) : on === 'sse' && (!self.usable || badSample(rtt, c));
  };

  /** Automatic switches are on hold after failures, and by the flap guard. */
  const free = (now: number) => now >= hold && now - switchBefore >= FLAP_WINDOW_MS;
  const decide = (now: number, current: TransportName, websocketUsable: boolean, quality = meter.quality(now)): PolicyDecision | null => {
    try {
      return c.policy({ now, current, quality, ...streak, lastSwitchAt, websocketUsable, options: c });
    } catch (error) {
      host.report(error);
      return null;
    }
  };

  const self: Adaptive = {
    usable: true,
    probe() {
      calm = null;
      if (c.probe && !closed) probing = [];
    },
    sampled(rtt, at) {
      calm = agrees(rtt) ? (calm ?? at) : null;
      if (!probing || !c.probe) return;
      probing.push(rtt);
      const n = probing.length;
      const to = isBad(summarize(probing), c) ? 'sse' : 'websocket';
      // A first answer well within maxRttMs settles it: more samples would change nothing, and a
      // server that a thousand clients reconnect to at once would answer them all. Loss on such a
      // network shows in the regular PINGs.
      const done = n >= c.probe.count || (n === 1 && rtt !== null && rtt <= c.maxRttMs / 4);
      // The first sample moves the session at once if it points elsewhere; the complete probe
      // moves it again if the whole count disagrees with where it ended up.
      if (n === 1 || done) probed = to;
      if (done) probing = undefined;
      else host.ping();
    },
    steady: (now) => calm !== null && !probing && now - calm >= c.windowMs,
    evaluate(now) {
      const quality = meter.quality(now);
      streak = track(streak, quality, meter, now, c);
      const current = host.current();
      if (!current || host.busy() || !free(now)) return;
      const d = probed ? { to: probed, reason: 'probe' } : decide(now, current, self.usable, quality);
      probed = undefined;
      if (d && d.to !== current && (d.to === 'sse' || (d.to === 'websocket' && self.usable))) host.request(d.to, d.reason);
    },
    failed(name, now) {
      if (name === 'websocket') self.usable = false;
      hold = now + capped(tries++, c.reprobe.initialDelayMs, c.reprobe.maxDelayMs);
      clearTimeout(timer);
      timer = undefined;
      self.attached();
    },
    works() {
      self.usable = true;
      tries = 0;
    },
    switched(now) {
      calm = null;
      switchBefore = lastSwitchAt;
      lastSwitchAt = now;
      tries = 0;
    },
    attached() {
      calm = null;
      if (self.usable || timer || closed) return;
      timer = setTimeout(() => {
        timer = undefined;
        // Not now (no session, or a switch under way): the next attach or failure re-arms this.
        if (self.usable || !host.current() || host.busy()) return;
        // Test the socket, and move the session onto it only if the policy wants it by then.
        host.request('websocket', 'recovered', (now = Date.now()) => free(now) && decide(now, 'sse', true)?.to === 'websocket');
      }, Math.max(0, hold - Date.now()));
    },
    close() {
      closed = true;
      probing = undefined;
      clearTimeout(timer);
    },
  };
  return self;
}
