import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAcks } from './acks.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** Acks for `h`, attached to a server with the default replay buffer on h's transport. */
function ackOn(h: ReturnType<typeof host>, replayFrames?: number) {
  const acks = createAcks(32, 250, h);
  acks.attached({ replayFrames }, h.sse);
  return acks;
}

/**
 * A host whose unacked count and size the test sets; `sent` counts acks, each of which clears the
 * count. Until attached() says otherwise, the server's replay buffer is the default, 10,000 frames
 * and 1 MiB.
 */
function host(sse = false) {
  const h = {
    unackedNow: 0,
    unitsNow: 0,
    sse,
    sent: 0,
    unacked: () => h.unackedNow,
    send: () => {
      h.sent++;
      h.unackedNow = h.unitsNow = 0;
    },
  };
  return h;
}

const deliver = (h: ReturnType<typeof host>, acks: ReturnType<typeof createAcks>, n: number, size = 50) => {
  for (let i = 0; i < n; i++) {
    h.unackedNow++;
    h.unitsNow += size;
    acks.delivered(h.unackedNow, h.unitsNow);
  }
};

describe('acks', () => {
  it('on WebSocket: at once after `every` frames, else within the delay plus up to half again', () => {
    const h = host();
    const acks = ackOn(h);
    deliver(h, acks, 31);
    expect(h.sent).toBe(0);
    deliver(h, acks, 1);
    expect(h.sent).toBe(1);
    deliver(h, acks, 1);
    vi.advanceTimersByTime(249);
    expect(h.sent).toBe(1);
    vi.advanceTimersByTime(126);
    expect(h.sent).toBe(2);
  });

  it('on SSE: 8× the frames and 8× the wait, and with a message once `every` frames wait', () => {
    const h = host(true);
    const acks = ackOn(h);
    deliver(h, acks, 255);
    expect(h.sent).toBe(0);
    deliver(h, acks, 1);
    expect(h.sent).toBe(1);
    deliver(h, acks, 31);
    acks.sending();
    expect(h.sent).toBe(1); // 31 wait: the message goes alone
    deliver(h, acks, 1);
    acks.sending();
    expect(h.sent).toBe(2);
    deliver(h, acks, 1);
    vi.advanceTimersByTime(1_999);
    expect(h.sent).toBe(2);
    vi.advanceTimersByTime(1_001);
    expect(h.sent).toBe(3);
  });

  it('at once, on either transport, when a quarter of the replay buffer is unacked, in bytes or in frames', () => {
    for (const sse of [false, true]) {
      const h = host(sse);
      const acks = ackOn(h);
      deliver(h, acks, 4, 60_000); // 240,000 units: under a quarter of 1 MiB
      expect(h.sent).toBe(0);
      deliver(h, acks, 1, 60_000); // 300,000: over it
      expect(h.sent).toBe(1);
      acks.stop();
      // A server that holds 40 frames: an ack every 10, not every 32 (or 256 on SSE).
      const few = host(sse);
      const acks2 = ackOn(few, 40);
      deliver(few, acks2, 9);
      expect(few.sent).toBe(0);
      deliver(few, acks2, 1);
      expect(few.sent).toBe(1);
      acks2.stop();
    }
  });

  it('a message on WebSocket takes no ack along; stop() cancels the pending one', () => {
    const h = host();
    const acks = ackOn(h);
    deliver(h, acks, 40 - 32); // 8 wait
    acks.sending();
    expect(h.sent).toBe(0);
    acks.stop();
    vi.advanceTimersByTime(10_000);
    expect(h.sent).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
