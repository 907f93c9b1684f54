import { describe, expect, it } from 'vitest';
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
