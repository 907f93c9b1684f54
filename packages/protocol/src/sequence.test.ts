import { describe, expect, it } from 'vitest';
import { ReceiveWindow, SendWindow } from './sequence.js';

describe('SendWindow', () => {
  it('numbers from 1, holds until acked, replays after any point', () => {
    const w = new SendWindow<string>({ maxFrames: 10, maxBytes: 100 });
    expect(w.nextSeq).toBe(1);
    expect(w.push('a', 1)).toBe(1);
    expect(w.push('b', 1)).toBe(2);
    expect(w.push('c', 1)).toBe(3);
    expect([...w.after(1)]).toEqual([[2, 'b'], [3, 'c']]);
    expect(w.ack(2)).toBe(true);
    expect(w.acked).toBe(2);
    expect(w.size).toBe(1);
    expect(w.get(2)).toBeUndefined();
    expect(w.get(3)).toBe('c');
    expect([...w.after(0)]).toEqual([[3, 'c']]);
    expect(w.ack(1)).toBe(true); // old ack: harmless
    expect(w.ack(4)).toBe(false); // never sent
  });

  it('refuses a push over either limit and stores nothing', () => {
    const w = new SendWindow<string>({ maxFrames: 2, maxBytes: 10 });
    expect(w.push('a', 6)).toBe(1);
    expect(w.push('b', 5)).toBe(0);
    expect(w.push('b', 4)).toBe(2);
    expect(w.push('c', 0)).toBe(0);
    expect(w.size).toBe(2);
    expect(w.bytes).toBe(10);
    w.ack(1);
    expect(w.bytes).toBe(4);
    expect(w.push('c', 6)).toBe(3);
  });

  it('replays from any position it still holds the next frame of', () => {
    const w = new SendWindow<number>({ maxFrames: 100, maxBytes: 1000 });
    for (let i = 1; i <= 5; i++) w.push(i * 10, 1);
    w.ack(2);
    expect([...w.after(2)]).toEqual([[3, 30], [4, 40], [5, 50]]);
    expect([...w.after(1)]).toEqual([[3, 30], [4, 40], [5, 50]]); // frame 2 is gone: a peer at 1 cannot be caught up
    expect([...w.after(5)]).toEqual([]);
    expect([w.acked, w.lastSeq]).toEqual([2, 5]);
  });

  it('stays correct across compaction of a long run', () => {
    const w = new SendWindow<number>({ maxFrames: 5000, maxBytes: 1e9 });
    let acked = 0;
    for (let seq = 1; seq <= 20_000; seq++) {
      expect(w.push(seq * 10, 1)).toBe(seq);
      if (seq % 7 === 0) {
        acked = seq - 3;
        w.ack(acked);
      }
      expect(w.size).toBe(seq - acked);
    }
    expect(w.get(acked + 1)).toBe((acked + 1) * 10);
    expect([...w.after(19_999)]).toEqual([[20_000, 200_000]]);
  });

  it('drain() returns the unacked items and restarts numbering', () => {
    const w = new SendWindow<string>({ maxFrames: 10, maxBytes: 100 });
    w.push('a', 1);
    w.push('b', 1);
    w.push('c', 1);
    w.ack(1);
    expect(w.drain()).toEqual(['b', 'c']);
    expect(w.size).toBe(0);
    expect(w.bytes).toBe(0);
    expect(w.push('b', 1)).toBe(1);
  });
});

describe('ReceiveWindow', () => {
  it('delivers in order once, flags duplicates and gaps', () => {
    const r = new ReceiveWindow();
    expect(r.accept(1)).toBe('deliver');
    expect(r.accept(1)).toBe('duplicate');
    expect(r.accept(3)).toBe('gap');
    expect(r.last).toBe(1);
    expect(r.accept(2)).toBe('deliver');
    expect(r.accept(3)).toBe('deliver');
    expect(r.unacked).toBe(3);
    expect(r.takeAck()).toBe(3);
    expect(r.unacked).toBe(0);
  });

  it('any interleaving of replays delivers every number exactly once, in order', () => {
    // Two "transports" each replay overlapping ranges; what gets delivered must be 1..N once.
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const r = new ReceiveWindow();
    const delivered: number[] = [];
    const N = 500;
    while (r.last < N) {
      const from = Math.max(1, r.last + 1 - Math.floor(rand() * 5));
      const to = Math.min(N, from + Math.floor(rand() * 20));
      for (let s = from; s <= to; s++) {
        const verdict = r.accept(s);
        if (verdict === 'deliver') delivered.push(s);
        if (verdict === 'gap') break; // a receiver resumes from r.last on a gap
      }
    }
    expect(delivered).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  });
});
