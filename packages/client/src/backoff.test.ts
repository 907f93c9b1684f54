import { describe, expect, it } from 'vitest';
import { backoff } from './backoff.js';

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
