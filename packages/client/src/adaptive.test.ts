/**
 * Adaptive switching without a network: the probe, the decision pipeline (window → streaks →
 * policy → holds and flap guard) simulated over minutes of injected time, and the WebSocket
 * re-probe schedule. Time is passed in, or faked; nothing here waits.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FLAP_WINDOW_MS, adaptiveConfig, createAdaptive, keptSamples, type Adaptive, type AdaptiveHost } from './adaptive.js';
import { createMeter } from './quality.js';
import type { AdaptiveOptions, TransportName } from './types.js';

/** Simulated time starts here: Date.now()-like, far from 0 ("never switched"). */
const T0 = 1_000_000_000;

interface Request {
  to: TransportName;
  reason: string;
  confirm?: (() => boolean) | undefined;
}

function setup(options: AdaptiveOptions = {}, host: Partial<AdaptiveHost> = {}) {
  const c = adaptiveConfig(options);
  const meter = createMeter(c.windowMs, c.pingTimeoutMs, (rtt, at) => ad.sampled(rtt, at), keptSamples(c));
  const state = { current: 'websocket' as TransportName | undefined, busy: false, requests: [] as Request[], reported: [] as unknown[], pings: 0 };
  const ad = createAdaptive(c, {
    meter,
    current: () => state.current,
    busy: () => state.busy,
    request: (to, reason, confirm) => void state.requests.push({ to, reason, confirm }),
    ping: () => void state.pings++,
    report: (error) => void state.reported.push(error),
    ...host,
  });
  return { ad, meter, state };
}

/**
 * The client's loop without timers: a look every second, and a PING on the transport carrying the
 * session at each (every steadySampleIntervalMs while the link is steady, as the connection does),
 * answered `rtt(t)` later (null: never), a loss once unanswered for pingTimeoutMs; the pipeline
 * looks after every sample, and a switch completes at once. Returns when each switch happened
 * (relative to the start) and why, and when each PING left.
 */
function run(rtt: (t: number) => number | null, durationMs: number, options: AdaptiveOptions = {}) {
  const { ad, meter, state } = setup(options);
  const steadyEvery = adaptiveConfig(options).steadySampleIntervalMs;
  const pongs: Array<[at: number, n: number]> = [];
  const switches: Array<{ at: number; to: TransportName; reason: string }> = [];
  const pings: number[] = [];
  const look = (now: number) => {
    ad.evaluate(now);
    const r = state.requests.shift();
    if (!r) return;
    state.current = r.to;
    ad.switched(now);
    switches.push({ at: now - T0, to: r.to, reason: r.reason });
  };
  for (let t = 0; t < durationMs; t += 1000) {
    pongs.sort((a, b) => a[0] - b[0]);
    while (pongs.length && pongs[0]![0] < T0 + t) {
      const [at, n] = pongs.shift()!;
      meter.pong(n, at);
      look(at);
    }
    meter.expire(T0 + t);
    if (!ad.steady(T0 + t) || t - pings.at(-1)! >= steadyEvery) {
      pings.push(t);
      meter.ping(T0 + t);
      const r = rtt(t);
      if (r !== null) pongs.push([T0 + t + r, T0 + t]);
    }
    look(T0 + t);
  }
  return { switches, pings };
}

const simulate = (...args: Parameters<typeof run>) => run(...args).switches;

/** Most switches within any 60 s. */
function perMinute(switches: Array<{ at: number }>) {
  return Math.max(0, ...switches.map((s) => switches.filter((o) => o.at >= s.at && o.at < s.at + 60_000).length));
}

/** Deterministic PRNG (mulberry32), so every run sees the same walks. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('adaptiveConfig', () => {
  it('fills every default', () => {
    const { policy, ...rest } = adaptiveConfig(undefined);
    expect(rest).toEqual({
      maxRttMs: 300,
      maxLoss: 0.2,
      downgradeAfterMs: 3000,
      upgradeAfterMs: 10_000,
      minDwellMs: 5000,
      sampleIntervalMs: 1000,
      steadySampleIntervalMs: 5000,
      windowMs: 5000,
      pingTimeoutMs: 1000,
      probe: { count: 3 },
      websocketTimeoutMs: 1500,
      reprobe: { initialDelayMs: 5000, maxDelayMs: 60_000 },
    });
    expect(typeof policy).toBe('function');
    expect(adaptiveConfig(false)).toEqual(adaptiveConfig({}));
    expect(adaptiveConfig({ probe: false, reprobe: { maxDelayMs: 9 } })).toMatchObject({ probe: false, reprobe: { initialDelayMs: 5000, maxDelayMs: 9 } });
    expect(adaptiveConfig({ probe: { count: 1 } }).probe).toEqual({ count: 1 });
  });
});

describe('the decision pipeline over time (simulated)', () => {
  it('degrade then heal: SSE 3 s after the link turned bad, WebSocket 10 s after it turned good', () => {
    // 50 ms, then 600 ms for the PINGs from t = 60 s, then 50 ms again from t = 120 s
    const link = (t: number) => (t >= 60_000 && t < 120_000 ? 600 : 50);
    // Sampled every second, as with steadySampleIntervalMs = sampleIntervalMs:
    expect(simulate(link, 180_000, { steadySampleIntervalMs: 1000 })).toEqual([
      { at: 63_000, to: 'sse', reason: 'degraded' },
      { at: 130_000, to: 'websocket', reason: 'recovered' },
    ]);
    // By default the steady link is sampled every 5 s: its first slow PING leaves at 64 s, and the
    // session moves 3 s after it; the first fast one on SSE (bad there, so steady too) at 122 s.
    expect(simulate(link, 180_000)).toEqual([
      { at: 67_000, to: 'sse', reason: 'degraded' },
      { at: 131_000, to: 'websocket', reason: 'recovered' },
    ]);
  });

  it('a link that stops answering is left 3 s after its first lost PING, and a slow one as soon as it is slow', () => {
    expect(simulate((t) => (t >= 30_000 ? null : 20), 60_000, { steadySampleIntervalMs: 1000 })).toEqual([{ at: 33_000, to: 'sse', reason: 'degraded' }]);
    // Steady, the link is sampled at 29 s and next at 34 s: that PING is the first lost.
    expect(simulate((t) => (t >= 30_000 ? null : 20), 60_000)).toEqual([{ at: 37_000, to: 'sse', reason: 'degraded' }]);
    expect(simulate(() => 900, 60_000)).toEqual([{ at: 3000, to: 'sse', reason: 'degraded' }]);
  });

  it('a steady link is sampled every steadySampleIntervalMs once a whole window agreed, and every second again from the first sample that does not', () => {
    const { pings, switches } = run((t) => (t === 29_000 ? 280 : 50), 60_000);
    // 0–4 s fill the window; then every 5 s. The one at 29 s is answered in 280 ms: not good (above
    // 80 % of maxRttMs), not bad, so not steady: every second again until a window agrees.
    expect(pings).toEqual([0, 1, 2, 3, 4, 9, 14, 19, 24, 29, 30, 31, 32, 33, 34, 39, 44, 49, 54, 59].map((s) => s * 1000));
    expect(switches).toEqual([]);
  });

  it('one lost PING on a steady link weighs no more than at the regular pace: the window keeps as many samples', () => {
    const { pings, switches } = run((t) => (t === 29_000 ? null : 50), 120_000);
    expect(pings.filter((t) => t >= 24_000 && t < 45_000)).toEqual([24, 29, 30, 31, 32, 33, 34, 39, 44].map((s) => s * 1000));
    expect(switches).toEqual([]); // 1 lost of the 5 newest: 20 %, not above maxLoss
    // Two in a row are bad, at either pace.
    expect(simulate((t) => (t === 29_000 || t === 30_000 ? null : 50), 120_000)[0]).toEqual({ at: 32_000, to: 'sse', reason: 'degraded' });
  });

  it('sends a fifth of the PINGs over ten minutes of a good link', () => {
    expect(run(() => 50, 600_000).pings).toHaveLength(5 + 119);
    expect(run(() => 50, 600_000, { steadySampleIntervalMs: 1000 }).pings).toHaveLength(600);
  });

  it('honours other thresholds', () => {
    const switches = simulate((t) => (t < 20_000 ? 400 : 40), 60_000, { maxRttMs: 500, upgradeAfterMs: 2000 });
    expect(switches).toEqual([]);
    const fast = simulate((t) => (t < 20_000 ? 400 : 40), 60_000, { maxRttMs: 200, downgradeAfterMs: 1000, upgradeAfterMs: 2000 });
    expect(fast).toEqual([
      { at: 1000, to: 'sse', reason: 'degraded' },
      { at: 22_040, to: 'websocket', reason: 'recovered' }, // the answer that made the median good
    ]);
  });

  it('30% loss degrades', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const random = prng(seed);
      const switches = simulate(() => (random() < 0.3 ? null : 40), 600_000);
      expect(switches[0]?.to).toBe('sse');
      expect(perMinute(switches)).toBeLessThanOrEqual(2);
    }
  });

  it('10 minutes of RTT alternating 250/350 ms every 2 s: no switch at all, from either side', () => {
    expect(simulate((t) => (Math.floor(t / 2000) % 2 ? 350 : 250), 600_000)).toEqual([]);
    expect(simulate((t) => (Math.floor(t / 2000) % 2 ? 340 : 260), 600_000)).toEqual([]);
    // once on SSE, a link hovering at the threshold never brings it back up (it is not good)
    expect(simulate((t) => (t < 10_000 ? 900 : Math.floor(t / 2000) % 2 ? 350 : 250), 600_000)).toEqual([{ at: 3000, to: 'sse', reason: 'degraded' }]);
  });

  it('10 minutes of random walks around the threshold: at most 2 switches in any minute', () => {
    let total = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const random = prng(seed);
      let rtt = 300;
      const walk = () => {
        rtt = Math.min(600, Math.max(50, rtt + (random() - 0.5) * 60));
        return random() < 0.03 ? null : rtt;
      };
      const switches = simulate(walk, 600_000);
      total += switches.length;
      expect(perMinute(switches), `seed ${seed}: ${JSON.stringify(switches)}`).toBeLessThanOrEqual(2);
    }
    expect(total).toBeGreaterThan(0); // the walks do cross: this is not vacuous
  });

  it('10 minutes of noise between 200 and 400 ms, sample by sample: at most 2 switches in any minute', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = prng(seed);
      const switches = simulate(() => (random() < 0.5 ? 200 : 400) + (random() - 0.5) * 80, 600_000);
      expect(perMinute(switches), `seed ${seed}: ${JSON.stringify(switches)}`).toBeLessThanOrEqual(2);
    }
  });
});

describe('steady', () => {
  /** Feeds samples taken every second from `from`, as the meter tells them, and says whether the link is steady after. */
  function steadyAfter(current: TransportName, rtts: Array<number | null>, before?: (s: ReturnType<typeof setup>) => void) {
    const s = setup();
    s.state.current = current;
    before?.(s);
    rtts.forEach((rtt, i) => s.ad.sampled(rtt, T0 + i * 1000));
    return s.ad.steady(T0 + rtts.length * 1000);
  }
  const five = (rtt: number | null) => Array<number | null>(5).fill(rtt);

  it('on WebSocket, after a whole window of good samples; one that is not good ends it', () => {
    expect(steadyAfter('websocket', five(50))).toBe(true);
    expect(steadyAfter('websocket', five(50).slice(1))).toBe(false); // 4 s of them
    expect(steadyAfter('websocket', [...five(50), 260])).toBe(false); // neither good nor bad
    expect(steadyAfter('websocket', [...five(50), null])).toBe(false);
    expect(steadyAfter('websocket', five(900))).toBe(false);
  });

  it('on SSE, after a window of bad samples (nothing to decide until the link recovers), or of any while WebSocket is unusable', () => {
    expect(steadyAfter('sse', [900, null, 900, 900, null])).toBe(true);
    expect(steadyAfter('sse', five(50))).toBe(false); // good: the policy is waiting to go back up
    expect(steadyAfter('sse', [...five(900), 50])).toBe(false);
    expect(steadyAfter('sse', five(50), (s) => s.ad.failed('websocket', T0))).toBe(true);
  });

  it('starts afresh on attach, a switch, a failure and a probe; never while a probe runs or without a session', () => {
    for (const reset of [(a: Adaptive) => a.attached(), (a: Adaptive) => a.switched(T0), (a: Adaptive) => a.failed('sse', T0), (a: Adaptive) => a.probe()]) {
      const { ad } = setup();
      for (let i = 0; i < 5; i++) ad.sampled(50, T0 + i * 1000);
      expect(ad.steady(T0 + 5000)).toBe(true);
      reset(ad);
      expect(ad.steady(T0 + 5000)).toBe(false);
      for (let i = 5; i < 10; i++) ad.sampled(50, T0 + i * 1000);
      expect(ad.steady(T0 + 10_000)).toBe(true);
    }
    // While the probe runs (its first sample slow enough not to end it), never.
    const { ad: probing } = setup({ probe: { count: 10 } });
    probing.probe();
    probing.sampled(100, T0);
    for (let i = 1; i < 6; i++) probing.sampled(50, T0 + i * 1000);
    expect(probing.steady(T0 + 6000)).toBe(false);
    const { ad, state } = setup();
    state.current = undefined;
    for (let i = 0; i < 5; i++) ad.sampled(50, T0 + i * 1000);
    expect(ad.steady(T0 + 5000)).toBe(false);
  });
});

describe('the flap guard', () => {
  it('holds a third switch until a minute after the first of the two before it', () => {
    const { ad, meter, state } = setup({ minDwellMs: 0, downgradeAfterMs: 0 });
    ad.switched(T0);
    ad.switched(T0 + 1000);
    meter.add(T0 + 2000, 900);
    ad.evaluate(T0 + 2000);
    expect(state.requests).toEqual([]);
    meter.add(T0 + FLAP_WINDOW_MS - 500, 900);
    ad.evaluate(T0 + FLAP_WINDOW_MS - 1);
    expect(state.requests).toEqual([]);
    ad.evaluate(T0 + FLAP_WINDOW_MS);
    expect(state.requests).toMatchObject([{ to: 'sse', reason: 'degraded' }]);
  });
});

describe('decisions', () => {
  it('asks nothing while a switch is under way or the session is detached', () => {
    const { ad, meter, state } = setup({ downgradeAfterMs: 0 });
    meter.add(T0, 900);
    state.busy = true;
    ad.evaluate(T0);
    state.busy = false;
    state.current = undefined;
    ad.evaluate(T0);
    expect(state.requests).toEqual([]);
    state.current = 'websocket';
    ad.evaluate(T0);
    expect(state.requests).toMatchObject([{ to: 'sse', reason: 'degraded' }]);
  });

  it('ignores a policy decision it cannot carry out, and reports a policy that throws', () => {
    const moves: Array<string> = [];
    const { ad, meter, state } = setup({
      policy: (i) => {
        moves.push(i.current);
        if (moves.length === 1) return { to: 'websocket', reason: 'same' };
        if (moves.length === 2) return { to: 'carrier-pigeon' as TransportName, reason: 'nonsense' };
        throw new Error('policy bug');
      },
    });
    meter.add(T0, 10);
    ad.evaluate(T0);
    ad.evaluate(T0);
    ad.evaluate(T0);
    expect(state.requests).toEqual([]);
    expect(state.reported).toMatchObject([{ message: 'policy bug' }]);
  });

  it('passes the policy the window, the streaks, the last switch and usability', () => {
    const inputs: unknown[] = [];
    const { ad, meter, state } = setup({ maxRttMs: 100, policy: (i) => (inputs.push(i), null) });
    state.current = 'sse';
    meter.add(T0 - 1000, 500);
    meter.add(T0, 500);
    ad.switched(T0 - 10_000);
    ad.failed('websocket', T0 - 60_000); // unusable; the hold is long over
    ad.evaluate(T0 + 10);
    expect(inputs).toEqual([
      {
        now: T0 + 10,
        current: 'sse',
        quality: { rtt: 500, loss: 0, jitter: 0, samples: 2 },
        badSince: T0 - 1000,
        goodSince: null,
        lastSwitchAt: T0 - 10_000,
        websocketUsable: false,
        options: expect.objectContaining({ maxRttMs: 100, maxLoss: 0.2, downgradeAfterMs: 3000, upgradeAfterMs: 10_000, minDwellMs: 5000 }),
      },
    ]);
    ad.close();
  });

  it('never moves to an unusable WebSocket on the policy\'s word', () => {
    const { ad, meter, state } = setup({ upgradeAfterMs: 0, minDwellMs: 0, policy: () => ({ to: 'websocket', reason: 'recovered' }) });
    state.current = 'sse';
    ad.failed('websocket', T0 - 3_600_000);
    meter.add(T0, 10);
    ad.evaluate(T0);
    expect(state.requests).toEqual([]);
    ad.works();
    ad.evaluate(T0);
    expect(state.requests).toMatchObject([{ to: 'websocket', reason: 'recovered' }]);
    ad.close();
  });

  it('holds automatic switches after a failed one, with backoff', () => {
    const { ad, meter, state } = setup({ downgradeAfterMs: 0, minDwellMs: 0, reprobe: { initialDelayMs: 1000, maxDelayMs: 4000 } });
    meter.add(T0, 900);
    ad.failed('sse', T0);
    ad.evaluate(T0 + 999);
    expect(state.requests).toEqual([]);
    ad.evaluate(T0 + 1000);
    expect(state.requests).toHaveLength(1);
    ad.failed('sse', T0 + 1000);
    ad.evaluate(T0 + 2999);
    expect(state.requests).toHaveLength(1);
    ad.evaluate(T0 + 3000);
    expect(state.requests).toHaveLength(2);
  });
});

describe('the probe', () => {
  /** A sample, then the evaluation that follows every sample in the connection. */
  const feed = (ad: ReturnType<typeof setup>['ad'], rtt: number | null) => {
    ad.sampled(rtt, Date.now());
    ad.evaluate(Date.now());
  };
  /** Arms the probe on `current` and feeds it these samples (null: lost), as the link's PINGs would. */
  function probing(rtts: Array<number | null>, options: AdaptiveOptions = {}, current: TransportName = 'websocket') {
    const s = setup(options);
    s.state.current = current;
    s.ad.probe();
    for (const rtt of rtts) feed(s.ad, rtt);
    return s;
  }
  const probe = (to: TransportName) => ({ to, reason: 'probe', confirm: undefined });

  it('moves the session at its first sample if that points to the other transport', () => {
    expect(probing([900]).state.requests).toEqual([probe('sse')]);
    expect(probing([null]).state.requests).toEqual([probe('sse')]);
    expect(probing([20]).state.requests).toEqual([]);
    expect(probing([20], {}, 'sse').state.requests).toEqual([probe('websocket')]);
    expect(probing([900], {}, 'sse').state.requests).toEqual([]);
  });

  it('asks for each next sample at once; a first answer within a quarter of maxRttMs ends it there', () => {
    const pings = (rtts: Array<number | null>, options: AdaptiveOptions = {}) => probing(rtts, options).state.pings;
    expect(pings([20])).toBe(0);
    expect(pings([75])).toBe(0);
    expect(pings([76])).toBe(1);
    expect(pings([76, 20, 20])).toBe(2); // count 3: over
    expect(pings([null, 20])).toBe(2);
    expect(pings([20, 20, 20], { maxRttMs: 40 })).toBe(2);
    expect(pings([76, 20, 20, 20])).toBe(2); // the fourth sample is the policy's
    expect(pings([76, 20, 20, 20, 20], { probe: { count: 5 } })).toBe(4);
  });

  it('once complete, moves the session again if the whole count disagrees', () => {
    const { ad, state } = probing([900]);
    expect(state.requests).toEqual([probe('sse')]);
    state.current = 'sse'; // the switch went through
    ad.switched(Date.now());
    feed(ad, 20);
    expect(state.requests).toHaveLength(1);
    feed(ad, 20); // median 20 ms
    expect(state.requests).toEqual([probe('sse'), probe('websocket')]);
    ad.evaluate(Date.now()); // once
    expect(state.requests).toHaveLength(2);
  });

  it('waits while a switch runs, and acts on its verdict afterwards', () => {
    const s = setup();
    s.state.busy = true;
    s.ad.probe();
    feed(s.ad, 900);
    expect(s.state.requests).toEqual([]);
    s.state.busy = false;
    s.ad.evaluate(Date.now());
    expect(s.state.requests).toEqual([probe('sse')]);
  });

  it('agrees silently; without it (or unarmed) samples go to the policy alone', () => {
    expect(probing([100, 100, 100]).state.requests).toEqual([]);
    const off = probing([900, 900], { probe: false });
    expect(off.state).toMatchObject({ requests: [], pings: 0 });
    const unarmed = setup();
    feed(unarmed.ad, 900);
    expect(unarmed.state).toMatchObject({ requests: [], pings: 0 });
  });

  it('runs again on demand (the network changed), starting afresh', () => {
    const { ad, state } = probing([20]);
    ad.probe();
    feed(ad, 100); // not settled by one sample: the next PING
    expect(state.pings).toBe(1);
    ad.probe(); // again, while it runs: its samples start over
    feed(ad, 900);
    expect(state.requests).toEqual([probe('sse')]);
  });

  it('stops once closed', () => {
    const { ad, state } = probing([]);
    ad.close();
    ad.probe();
    feed(ad, 900);
    expect(state).toMatchObject({ requests: [], pings: 0 });
  });

  it('takes its samples from the meter', () => {
    const { ad, meter, state } = setup();
    ad.probe();
    meter.ping(T0);
    meter.expire(T0 + 1000); // lost
    ad.evaluate(T0 + 1000);
    expect(state.requests).toEqual([probe('sse')]);
    expect(state.pings).toBe(1);
  });
});

describe('WebSocket re-probes', () => {
  afterEach(() => void vi.useRealTimers());

  it('after WebSocket failed: re-probe with capped exponential backoff, asking the policy at the PONG', () => {
    vi.useFakeTimers({ now: T0 });
    const { ad, meter, state } = setup({ reprobe: { initialDelayMs: 5000, maxDelayMs: 12_000 } });
    state.current = 'sse';
    ad.failed('websocket', Date.now());
    expect(ad.usable).toBe(false);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = Date.now();
      vi.advanceTimersToNextTimer();
      expect(state.requests).toHaveLength(1);
      delays.push(Date.now() - start);
      const r = state.requests.pop()!;
      expect(r).toMatchObject({ to: 'websocket', reason: 'recovered' });
      ad.failed('websocket', Date.now()); // the test PING got no PONG
    }
    expect(delays).toEqual([5000, 10_000, 12_000, 12_000]);

    // This one gets its PONG: usable again. The link has been good for 10 s: move.
    for (let t = Date.now() - 11_000; t <= Date.now(); t += 1000) meter.add(t, 20);
    ad.evaluate(Date.now());
    vi.advanceTimersToNextTimer();
    const r = state.requests.pop()!;
    ad.works();
    expect(ad.usable).toBe(true);
    expect(r.confirm!()).toBe(true);
    // no timer left: usable
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the re-probe only tests the socket when the link is not good enough to move', () => {
    vi.useFakeTimers({ now: T0 });
    const { ad, meter, state } = setup();
    state.current = 'sse';
    ad.failed('websocket', Date.now());
    vi.advanceTimersToNextTimer();
    meter.add(Date.now(), 900);
    ad.evaluate(Date.now());
    expect(state.requests.pop()!.confirm!()).toBe(false);
  });

  it('does not re-probe while no session is attached or a switch is under way; the next attach re-arms', () => {
    vi.useFakeTimers({ now: T0 });
    const { ad, state } = setup();
    state.current = undefined;
    ad.failed('websocket', Date.now());
    vi.advanceTimersToNextTimer();
    expect(state.requests).toEqual([]);
    state.current = 'sse';
    ad.attached();
    vi.advanceTimersToNextTimer();
    expect(state.requests).toHaveLength(1);
    ad.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
