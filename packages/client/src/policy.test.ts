import { describe, expect, it } from 'vitest';
import { defaultPolicy, isBad, isGood, track, type Streak } from './policy.js';
import { createMeter, summarize } from './quality.js';
import type { PolicyInput } from './types.js';

const options = { maxRttMs: 300, maxLoss: 0.2, downgradeAfterMs: 3000, upgradeAfterMs: 10_000, minDwellMs: 5000 };
const quality = summarize([]);
const input = (over: Partial<PolicyInput>): PolicyInput => ({
  now: 100_000,
  current: 'websocket',
  quality,
  badSince: null,
  goodSince: null,
  lastSwitchAt: 0,
  websocketUsable: true,
  options,
  ...over,
});

describe('isBad / isGood', () => {
  it('bad above either threshold, good only well below both, neither in between', () => {
    const verdict = (rtts: Array<number | null>) => {
      const q = summarize(rtts);
      return isBad(q, options) ? 'bad' : isGood(q, options) ? 'good' : 'neither';
    };
    expect(verdict([301])).toBe('bad');
    expect(verdict([300])).toBe('neither');
    expect(verdict([241])).toBe('neither');
    expect(verdict([240])).toBe('good');
    expect(verdict([10, 10, 10, null])).toBe('bad'); // loss 0.25
    expect(verdict([10, 10, 10, 10, null])).toBe('neither'); // loss 0.2: not above, but not ≤ 0.1
    expect(verdict([...Array(9).fill(10), null])).toBe('good'); // loss 0.1
    expect(verdict([null])).toBe('bad');
    expect(verdict([])).toBe('neither');
  });
});

describe('track', () => {
  it('starts a streak at the first sample of the newest run that agrees, and keeps it while the verdict holds', () => {
    const m = createMeter(10_000, 1000);
    [280, 280, 280, 400].forEach((rtt, i) => m.add(i * 1000, rtt));
    let s: Streak = { badSince: null, goodSince: null };
    s = track(s, m.quality(3500), m, 3500, options);
    expect(s).toEqual({ badSince: null, goodSince: null }); // median 280: neither bad nor good
    [400, 400, 400].forEach((rtt, i) => m.add(4000 + i * 1000, rtt));
    s = track(s, m.quality(6500), m, 6500, options);
    expect(s).toEqual({ badSince: 3000, goodSince: null }); // the median turned now; the link, at 3000
    m.add(7000, 50); // one fast answer does not end the streak while the median stays bad
    s = track(s, m.quality(7500), m, 7500, options);
    expect(s).toEqual({ badSince: 3000, goodSince: null });
    [50, 50, 50, 50, 50].forEach((rtt, i) => m.add(8000 + i * 1000, rtt));
    s = track(s, m.quality(12_500), m, 12_500, options);
    expect(s).toEqual({ badSince: null, goodSince: 7000 });
  });

  it('dates a verdict carried by losses among answers from the moment it turned', () => {
    const m = createMeter(5000, 1000);
    [10, null, 10, null, 10].forEach((rtt, i) => m.add(i * 1000, rtt));
    expect(track({ badSince: null, goodSince: 1 }, m.quality(4100), m, 4100, options)).toEqual({ badSince: 4100, goodSince: null });
  });
});

describe('defaultPolicy', () => {
  it('downgrades WebSocket once bad for downgradeAfterMs', () => {
    expect(defaultPolicy(input({ badSince: 97_001 }))).toBeNull();
    expect(defaultPolicy(input({ badSince: 97_000 }))).toEqual({ to: 'sse', reason: 'degraded' });
    expect(defaultPolicy(input({ goodSince: 0 }))).toBeNull();
  });

  it('upgrades SSE once good for upgradeAfterMs, only if WebSocket is usable', () => {
    const sse = { current: 'sse' as const, goodSince: 90_000 };
    expect(defaultPolicy(input(sse))).toEqual({ to: 'websocket', reason: 'recovered' });
    expect(defaultPolicy(input({ ...sse, goodSince: 90_001 }))).toBeNull();
    expect(defaultPolicy(input({ ...sse, websocketUsable: false }))).toBeNull();
    expect(defaultPolicy(input({ current: 'sse', badSince: 0 }))).toBeNull();
  });

  it('never switches within minDwellMs of the last switch', () => {
    expect(defaultPolicy(input({ badSince: 0, lastSwitchAt: 95_001 }))).toBeNull();
    expect(defaultPolicy(input({ badSince: 0, lastSwitchAt: 95_000 }))).toEqual({ to: 'sse', reason: 'degraded' });
    expect(defaultPolicy(input({ current: 'sse', goodSince: 0, lastSwitchAt: 95_001 }))).toBeNull();
  });
});
