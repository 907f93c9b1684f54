import { describe, expect, it } from 'vitest';
import { createWirehop } from './index.js';
import { MemoryBroker } from './memory-broker.js';
import { AckScheduler, sessionDue, sweepInterval } from './timers.js';

const t = { heartbeatMs: 100, heartbeatTimeoutMs: 50, sessionTtlMs: 1000 };

describe('sessionDue', () => {
  it('expires a detached session after its TTL, not before', () => {
    const s = { attached: false, lastHeard: 0, lastBeat: 0, detachedAt: 1000 };
    expect(sessionDue(1999, s, t)).toBeNull();
    expect(sessionDue(2000, s, t)).toBe('expire');
  });

  it('declares an attached link dead after heartbeat + timeout of silence', () => {
    const s = { attached: true, lastHeard: 1000, lastBeat: 1100, detachedAt: 0 };
    expect(sessionDue(1150, s, t)).toBeNull();
    expect(sessionDue(1151, s, t)).toBe('dead');
  });

  it('asks for a heartbeat every heartbeatMs', () => {
    const s = { attached: true, lastHeard: 1000, lastBeat: 1000, detachedAt: 0 };
    expect(sessionDue(1099, s, t)).toBeNull();
    expect(sessionDue(1100, s, t)).toBe('beat');
  });
});

describe('sweepInterval', () => {
  it('is a quarter of the shortest deadline, within [10 ms, 1 s]', () => {
    expect(sweepInterval({ ...t, helloTimeoutMs: 10_000 })).toBe(12);
    expect(sweepInterval({ heartbeatMs: 15_000, heartbeatTimeoutMs: 10_000, sessionTtlMs: 30_000, helloTimeoutMs: 10_000 })).toBe(1000);
    expect(sweepInterval({ heartbeatMs: 1, heartbeatTimeoutMs: 1, sessionTtlMs: 1, helloTimeoutMs: 1 })).toBe(10);
  });
});

describe("the server's sweep", () => {
  it("calls the broker's optional sweep, so that history nobody reads still expires", async () => {
    class CountingBroker extends MemoryBroker {
      sweeps = 0;
      override sweep(): void {
        this.sweeps++;
        super.sweep();
      }
    }
    const broker = new CountingBroker();
    const wh = createWirehop({ broker, heartbeatMs: 40 });
    await wh.ready();
    await expect.poll(() => broker.sweeps, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    await wh.close();
  });
});

describe('AckScheduler', () => {
  const session = (processed: number, ackSent = 0) => {
    const s = { processed, ackSent, flushes: 0, flushAck: () => void (s.flushes++, (s.ackSent = s.processed)) };
    return s;
  };

  it('acks at once when ackEvery frames are unacked', () => {
    const acks = new AckScheduler(4, 50);
    const s = session(4);
    acks.schedule(s);
    expect(s.flushes).toBe(1);
    acks.stop();
  });

  it('coalesces smaller counts into one flush of every waiting session', () => {
    const acks = new AckScheduler(32, 50);
    const a = session(1);
    const b = session(2);
    acks.schedule(a);
    acks.schedule(a);
    acks.schedule(b);
    expect(a.flushes + b.flushes).toBe(0);
    acks.flush();
    expect([a.flushes, b.flushes]).toEqual([1, 1]);
    acks.schedule(session(0)); // nothing to ack: not even queued
    acks.stop();
  });
});
