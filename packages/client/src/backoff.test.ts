import { describe, expect, it } from 'vitest';
import { backoff, capped } from './backoff.js';

describe('backoff', () => {
  it('is a random fraction of the exponential, capped', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoff(a, 250, 10_000, top))).toEqual([249, 499, 999, 1999, 3999, 7999, 9999]);
    expect(backoff(60, 250, 10_000, top)).toBe(9999);
    expect(backoff(5000, 250, 10_000, top)).toBe(9999);
  });

  it('uses full jitter: anywhere from zero up to the cap', () => {
    expect(backoff(3, 250, 10_000, () => 0)).toBe(0);
    expect(backoff(3, 250, 10_000, () => 0.5)).toBe(1000);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoff(-1, 100, 1000, () => 0.5)).toBe(50);
  });
});

describe('capped', () => {
  it('doubles from the initial delay up to the cap, without jitter', () => {
    expect([0, 1, 2, 3, 4, 50].map((a) => capped(a, 5000, 60_000))).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
    expect(capped(-3, 5000, 60_000)).toBe(5000);
  });
});
