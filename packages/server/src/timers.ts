/**
 * Time-driven work, shared by every session so that 10,000 sessions cost two timers, not 20,000:
 * one periodic sweep (heartbeats, dead links, session TTL, hello timeouts, tombstones) and one
 * coalescing ack timer. The policies are pure functions, unit-tested without timers.
 */

export interface LivenessTimes {
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  sessionTtlMs: number;
}

/** What a session's clocks say. */
export interface SessionClocks {
  attached: boolean;
  lastHeard: number;
  lastBeat: number;
  detachedAt: number;
}

/**
 * What the sweep must do for one session now: 'expire' (detached for sessionTtlMs), 'dead' (no
 * word from the client for heartbeatMs + heartbeatTimeoutMs: close the link, protocol.md §4),
 * 'beat' (a heartbeat is due), or null.
 */
export function sessionDue(now: number, s: SessionClocks, t: LivenessTimes): 'expire' | 'dead' | 'beat' | null {
  if (!s.attached) return now - s.detachedAt >= t.sessionTtlMs ? 'expire' : null;
  if (now - s.lastHeard > t.heartbeatMs + t.heartbeatTimeoutMs) return 'dead';
  if (now - s.lastBeat >= t.heartbeatMs) return 'beat';
  return null;
}

/**
 * Sweep period: a quarter of the shortest deadline, so each fires at most 25 % late, within
 * [10 ms, 1 s] so tiny test timings do not spin and large ones still sweep tombstones promptly.
 */
export function sweepInterval(t: LivenessTimes & { helloTimeoutMs: number }): number {
  const shortest = Math.min(t.heartbeatMs, t.heartbeatTimeoutMs, t.sessionTtlMs, t.helloTimeoutMs);
  return Math.min(1000, Math.max(10, Math.floor(shortest / 4)));
}

/** Runs `tick` every `intervalMs` without holding the process open. A throw goes to `onError`, never to the event loop. */
export class Sweeper {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: (now: number) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.tick(Date.now());
      } catch (error) {
        this.onError(error);
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** What the ack scheduler needs of a session. */
export interface Ackable {
  readonly processed: number;
  readonly ackSent: number;
  flushAck(): void;
}

/**
 * Acks per protocol.md §4: at once when `ackEvery` frames are unacked, otherwise within
 * `ackDelayMs` of the first. All sessions share one timer; a flush acks every waiting session.
 */
export class AckScheduler<S extends Ackable> {
  private readonly waiting = new Set<S>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ackEvery: number,
    private readonly ackDelayMs: number,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  schedule(session: S): void {
    const unacked = session.processed - session.ackSent;
    if (unacked <= 0) return;
    if (unacked >= this.ackEvery) {
      this.waiting.delete(session);
      session.flushAck();
      return;
    }
    this.waiting.add(session);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.ackDelayMs);
      this.timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sessions = [...this.waiting];
    this.waiting.clear();
    for (const session of sessions) {
      try {
        session.flushAck();
      } catch (error) {
        this.onError(error);
      }
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting.clear();
  }
}
