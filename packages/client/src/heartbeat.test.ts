import { describe, expect, it } from 'vitest';
import { beat, smoothRtt } from './heartbeat.js';

describe('beat', () => {
  it('pings when due and waits until the next ping or the deadline, whichever is first', () => {
    expect(beat(1000, 1000, 1000, 25_000, 15_000)).toEqual({ dead: false, ping: true, wait: 15_000 });
    expect(beat(5000, 1000, 16_000, 25_000, 15_000)).toEqual({ dead: false, ping: false, wait: 11_000 });
    // silence since t=1000: the deadline (26 000) comes before the next ping (40 000)
    expect(beat(25_000, 1000, 40_000, 25_000, 15_000)).toEqual({ dead: false, ping: false, wait: 1000 });
  });

  it('declares the link dead after deadAfter of silence', () => {
    expect(beat(26_000, 1000, 40_000, 25_000, 15_000).dead).toBe(true);
    expect(beat(25_999, 1000, 40_000, 25_000, 15_000).dead).toBe(false);
  });

  it('never asks for a wait a timer cannot hold', () => {
    const b = beat(0, 0, Infinity, Infinity, Infinity);
    expect(b.dead).toBe(false);
    expect(b.wait).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});

describe('smoothRtt', () => {
  it('starts at the first sample and moves 1/8 towards each next one', () => {
    expect(smoothRtt(null, 80)).toBe(80);
    expect(smoothRtt(80, 160)).toBe(90);
    expect(smoothRtt(90, 90)).toBe(90);
  });
});
