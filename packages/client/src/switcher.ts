/**
 * Switch requests, one switch at a time, so that two candidate transports never race for the
 * session. A request for the transport the running switch is heading to joins it. Any other waits
 * for it; only the newest waiting request is kept, and an older one it replaces (for another
 * transport) rejects with `superseded`. Free of IO and timers: the connection runs each switch.
 */
import { WirehopError } from '@wirehop/protocol';
import type { TransportName } from './types.js';

/** One switch: every caller waiting for the session to move to `to`. */
export interface Job {
  to: TransportName;
  /** Reason of the 'transport' event once it completes: the newest request's. */
  reason: string;
  /**
   * Asked when the target has shown it carries traffic (a WebSocket answered PING): false abandons
   * the switch, which then resolves without moving (a background re-probe the policy no longer
   * wants). A request without it (every manual one) clears it.
   */
  confirm?: (() => boolean) | undefined;
  readonly ok: Array<() => void>;
  readonly no: Array<(error: WirehopError) => void>;
}

export interface Switcher {
  /** Resolves once the session runs on `to` (at once if it does and nothing is pending). */
  request(to: TransportName, reason: string, confirm?: () => boolean): Promise<void>;
  /** A switch runs or waits. A method, not a getter: a literal with accessors is dictionary-mode in V8. */
  busy(): boolean;
  /** Starts the waiting request if the session can move now; call whenever that may have changed. */
  kick(): void;
  /** Rejects every request with `error` (the client closed). */
  close(error: WirehopError): void;
}

/**
 * @param run moves the session for `job` (make-before-break); rejects if the target cannot be opened
 * @param at the transport carrying the session, or undefined while none does (the request waits)
 */
export function createSwitcher(run: (job: Job) => Promise<void>, at: () => TransportName | undefined): Switcher {
  let running: Job | undefined;
  let waiting: Job | undefined;
  const settle = (job: Job | undefined, error?: WirehopError) => {
    if (job) for (const f of error ? job.no : job.ok) f(error as WirehopError);
  };
  const kick = () => {
    const now = at();
    if (running || !waiting || !now) return;
    const job = waiting;
    waiting = undefined;
    if (now === job.to) return settle(job);
    running = job;
    run(job)
      .then(() => settle(job), (error: WirehopError) => settle(job, error))
      .finally(() => {
        running = undefined;
        kick();
      });
  };
  return {
    request(to, reason, confirm) {
      return new Promise((ok, no) => {
        if (waiting && waiting.to !== to) {
          settle(waiting, new WirehopError('superseded', `a later switch to ${to} replaced this one`));
          waiting = undefined;
        }
        const job = running?.to === to ? running : (waiting ??= { to, reason, ok: [], no: [] });
        job.reason = reason;
        job.confirm = confirm;
        job.ok.push(ok);
        job.no.push(no);
        kick();
      });
    },
    busy: () => !!(running || waiting),
    kick,
    close(error) {
      settle(running, error);
      settle(waiting, error);
      waiting = undefined;
    },
  };
}
