import { describe, expect, it } from 'vitest';
import { createMeter, summarize } from './quality.js';

describe('summarize', () => {
  it('takes the median RTT, the loss fraction and the mean RTT step', () => {
    expect(summarize([10, 30, 20])).toEqual({ rtt: 20, loss: 0, jitter: 15, samples: 3 });
    expect(summarize([10, 40, 20, 30])).toEqual({ rtt: 25, loss: 0, jitter: 20, samples: 4 });
    // losses count in the fraction, and jitter steps over them
    expect(summarize([10, null, 30, null])).toEqual({ rtt: 20, loss: 0.5, jitter: 20, samples: 4 });
  });

  it('says null when there is nothing to say', () => {
    expect(summarize([])).toEqual({ rtt: null, loss: 0, jitter: null, samples: 0 });
    expect(summarize([null, null])).toEqual({ rtt: null, loss: 1, jitter: null, samples: 2 });
    expect(summarize([42])).toEqual({ rtt: 42, loss: 0, jitter: null, samples: 1 });
  });
});

describe('createMeter', () => {
  it('turns answered PINGs into RTT samples and unanswered ones into losses', () => {
    const m = createMeter(5000, 1000);
    m.ping(0);
    expect(m.pong(0, 80)).toBe(80);
    m.ping(1000);
    m.expire(1999);
    expect(m.quality(2000).samples).toBe(1);
    m.expire(2000); // unanswered for timeoutMs: lost
    expect(m.quality(2000)).toEqual({ rtt: 80, loss: 0.5, jitter: null, samples: 2 });
    expect(m.pong(1000, 2100)).toBeUndefined(); // already counted as lost
    expect(m.quality(2100).samples).toBe(2);
  });

  it('counts a PONG at or after the timeout as a loss, and ignores PONGs it never asked for', () => {
    const m = createMeter(5000, 1000);
    m.ping(0);
    expect(m.pong(0, 1000)).toBeUndefined();
    expect(m.pong(12345, 1000)).toBeUndefined();
    expect(m.quality(1000)).toEqual({ rtt: null, loss: 1, jitter: null, samples: 1 });
  });

  it('forgets pending PINGs (their transport is gone): neither RTT nor loss', () => {
    const m = createMeter(5000, 1000);
    m.ping(0);
    m.forget();
    m.expire(5000);
    expect(m.pong(0, 10)).toBeUndefined();
    expect(m.quality(5000).samples).toBe(0);
  });

  it('keeps samples that left within windowMs, whenever their answer came', () => {
    const m = createMeter(5000, 1000);
    for (let t = 0; t <= 10_000; t += 1000) m.add(t, t / 100);
    // at 10 000: samples that left after 5 000
    expect(m.quality(10_000)).toEqual({ rtt: 80, loss: 0, jitter: 10, samples: 5 });
    expect(m.quality(20_000).samples).toBe(0);
  });

  it('keeps departure order when a loss is detected after a later PING was answered', () => {
    const m = createMeter(10_000, 1500);
    m.ping(0);
    m.ping(1000);
    m.pong(1000, 1100);
    m.expire(1500); // PING 0 lost, detected after PING 1000's answer
    m.ping(2000);
    m.pong(2000, 2050);
    // newest run of answered samples: from 1000 on; of losses: none (the newest was answered)
    expect(m.since((r) => r !== null)).toBe(1000);
    expect(m.since((r) => r === null)).toBeNull();
    expect(m.quality(2050)).toEqual({ rtt: 75, loss: 1 / 3, jitter: 50, samples: 3 });
  });

  it('dates a run from the departure of its first sample', () => {
    const m = createMeter(10_000, 1000);
    [50, 400, 60, 500, 600].forEach((rtt, i) => m.add(i * 1000, rtt));
    expect(m.since((r) => r !== null && r > 300)).toBe(3000);
    expect(m.since((r) => r !== null && r < 100)).toBeNull();
    expect(m.since(() => true)).toBe(0);
  });

  it('tells of each outcome once the window has it; a PING sent from there stays pending', () => {
    const told: Array<[number | null, number]> = [];
    const m = createMeter(5000, 1000, (rtt) => {
      told.push([rtt, m.quality(2000).samples]);
      if (rtt === null) m.ping(1500); // as the probe does: the next PING at once
    });
    m.ping(0);
    m.ping(10);
    expect(m.pong(10, 30)).toBe(20);
    m.expire(1000); // the PING of 0 is lost, and the next one leaves from inside expire()
    expect(told).toEqual([[20, 1], [null, 2]]);
    expect(m.pong(1500, 1540)).toBe(40);
    expect(told).toEqual([[20, 1], [null, 2], [40, 3]]);
    m.pong(1500, 1600); // answered already: nothing
    expect(told).toHaveLength(3);
  });

  it('keeps the newest `keep.samples` within `keep.spanMs` when fewer are in the window, the newest first to stay', () => {
    const m = createMeter(5000, 1000, undefined, { samples: 5, spanMs: 25_000 });
    // A steady link, sampled every 5 s: the window alone would hold one sample.
    [0, 5000, 10_000, 15_000, 20_000, 25_000].forEach((at) => m.add(at, at === 15_000 ? null : 50));
    expect(m.quality(25_000)).toMatchObject({ loss: 1 / 5, samples: 5 }); // 5 s to 25 s
    // At the regular pace again: what the window holds counts, and the older ones fill it up to 5.
    [26_000, 27_000].forEach((at) => m.add(at, 50));
    expect(m.quality(27_000)).toMatchObject({ loss: 1 / 5, samples: 5 }); // 15 s to 27 s
    m.add(28_000, 50);
    expect(m.quality(28_000)).toMatchObject({ loss: 0, samples: 5 }); // 20 s to 28 s
    m.add(29_000, 50);
    expect(m.quality(29_000)).toMatchObject({ loss: 0, samples: 5 }); // 25 s to 29 s: the window alone
    // Nothing older than the span, however few are left.
    expect(m.quality(53_000)).toMatchObject({ samples: 1 });
    expect(m.quality(55_000)).toMatchObject({ samples: 0 });
    // Without `keep`, only the window.
    const plain = createMeter(5000, 1000);
    [0, 5000, 10_000].forEach((at) => plain.add(at, 50));
    expect(plain.quality(10_000).samples).toBe(1);
  });
});
