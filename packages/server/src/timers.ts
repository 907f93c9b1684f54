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

/** How often the event loop's delay is sampled, and how long a late sample counts. */
const LOOP_SAMPLE_MS = 100;
const LOOP_WINDOW_MS = 1000;

/**
 * How far behind this process's event loop runs: a timer every 100 ms, and how late it fired
 * (ServerOptions.maxEventLoopDelayMs). A process that far behind serves its sessions late already,
 * and every new session (authenticate(), WELCOME, its subscriptions) puts it further behind.
 */
export class LoopDelay {
  private readonly timer = new Sweeper(LOOP_SAMPLE_MS, (now) => this.sample(now), () => {});
  private last = 0;
  /** The latest sample over the limit: how late, and when. */
  private late = 0;
  private lateAt = -Infinity;

  constructor(readonly limitMs: number) {}

  /** Samples from now on; a limit of 0 samples nothing. */
  start(): void {
    if (this.limitMs <= 0) return;
    this.last = Date.now();
    this.timer.start();
  }

  /** The sampling timer fired at `now`. */
  private sample(now: number): void {
    const late = now - this.last - LOOP_SAMPLE_MS;
    this.last = now;
    if (late > this.limitMs) {
      this.late = late;
      this.lateAt = now;
    }
  }

  /** How late, in ms, a timer fired within the last second, when it was over the limit; else undefined. */
  over(): number | undefined {
    return Date.now() - this.lateAt < LOOP_WINDOW_MS ? this.late : undefined;
  }

  stop(): void {
    this.timer.stop();
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
