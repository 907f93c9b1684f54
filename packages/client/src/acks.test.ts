import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAcks } from './acks.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** A host whose unacked count the test sets; `sent` counts acks, each of which clears the count. */
function host(sse = false) {
  const h = {
    unackedNow: 0,
    sse,
    sent: 0,
    unacked: () => h.unackedNow,
    onSse: () => h.sse,
    send: () => {
      h.sent++;
      h.unackedNow = 0;
    },
  };
  return h;
}

const deliver = (h: ReturnType<typeof host>, acks: ReturnType<typeof createAcks>, n: number) => {
  for (let i = 0; i < n; i++) {
    h.unackedNow++;
    acks.delivered();
  }
};

describe('acks', () => {
  it('on WebSocket: at once after `every` frames, else within the delay plus up to half again', () => {
    const h = host();
    const acks = createAcks(32, 250, h);
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
    const acks = createAcks(32, 250, h);
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

  it('a message on WebSocket takes no ack along; stop() cancels the pending one', () => {
    const h = host();
    const acks = createAcks(32, 250, h);
    deliver(h, acks, 40 - 32); // 8 wait
    acks.sending();
    expect(h.sent).toBe(0);
    acks.stop();
    vi.advanceTimersByTime(10_000);
    expect(h.sent).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
