import { describe, expect, it } from 'vitest';
import { NO_IMPAIRMENT, schedule, validateImpairment, type Impairment, type LinkState } from './impairment.js';

const imp = (p: Partial<Impairment>): Impairment => ({ ...NO_IMPAIRMENT, ...p });
const link = (): LinkState => ({ lastAt: 0, freeAt: 0 });

describe('schedule', () => {
  it('a perfect link delivers at once', () => {
    expect(schedule(link(), 1000, 500, NO_IMPAIRMENT, () => 0.5)).toBe(1000);
  });

  it('adds latency and jitter', () => {
    expect(schedule(link(), 1000, 10, imp({ latencyMs: 100, jitterMs: 40 }), () => 0.5)).toBe(1120);
  });

  it('never lets a chunk overtake the previous one', () => {
    const l = link();
    const first = schedule(l, 1000, 10, imp({ latencyMs: 100, jitterMs: 50 }), () => 0.99);
    const second = schedule(l, 1001, 10, imp({ latencyMs: 100, jitterMs: 50 }), () => 0);
    expect(second).toBe(first);
  });

  it('paces by bandwidth: back-to-back chunks queue behind each other', () => {
    const l = link();
    const bw = imp({ bandwidthBytesPerSec: 1000 });
    expect(schedule(l, 0, 500, bw, () => 0)).toBe(500);
    expect(schedule(l, 0, 500, bw, () => 0)).toBe(1000);
    expect(schedule(l, 2000, 100, bw, () => 0)).toBe(2100); // the link was idle meanwhile
  });

  it('models each lost segment as a stall of the whole stream', () => {
    const lossy = imp({ lossRate: 0.5, stallMs: 200 });
    expect(schedule(link(), 0, 100, lossy, () => 0.4)).toBe(200); // 1 segment, lost
    expect(schedule(link(), 0, 100, lossy, () => 0.6)).toBe(0); // 1 segment, delivered
    expect(schedule(link(), 0, 1460 * 3, lossy, () => 0.1)).toBe(600); // 3 segments, all lost
  });
});

describe('validateImpairment', () => {
  it('names the bad field', () => {
    expect(() => validateImpairment({ latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => validateImpairment({ lossRate: 1.5 })).toThrow(/lossRate/);
    expect(() => validateImpairment({ upgrade: 'drop' as never })).toThrow(/upgrade/);
    expect(() => validateImpairment({ latencyMs: 10, lossRate: 0.1, upgrade: 'strip' })).not.toThrow();
  });
});
