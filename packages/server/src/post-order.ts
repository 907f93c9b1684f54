/**
 * POST /send bodies of one session travel on different connections, so a later one can overtake an
 * earlier one (protocol.md §5, "Several POSTs in flight"). A body whose first reliable frame is
 * ahead of what the session has received waits here for the bodies before it, a bounded number of
 * bodies for a bounded time; the session reports every frame it receives.
 */

export type Turn =
  /** The frames before this body arrived: apply it. */
  | 'go'
  /** They did not arrive within the wait. */
  | 'timeout'
  /** Too many bodies of this session are waiting already. */
  | 'full'
  /** The session ended (or moved away) meanwhile. */
  | 'closed';

interface Waiter {
  after: number;
  settle: (turn: Turn) => void;
}

export class PostOrder {
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly max: number,
    private readonly waitMs: number,
  ) {}

  /** Resolves once frames up to `after` have been received (see received()), or why not. */
  wait(after: number): Promise<Turn> {
    if (this.waiting.length >= this.max) return Promise.resolve('full');
    return new Promise((resolve) => {
      const timer = setTimeout(() => waiter.settle('timeout'), this.waitMs);
      const waiter: Waiter = {
        after,
        settle: (turn) => {
          clearTimeout(timer);
          const i = this.waiting.indexOf(waiter);
          if (i !== -1) this.waiting.splice(i, 1);
          resolve(turn);
        },
      };
      this.waiting.push(waiter);
    });
  }

  /** The session has received every frame up to `last`: the bodies that follow them may go. */
  received(last: number): void {
    for (const waiter of this.waiting.filter((w) => w.after <= last)) waiter.settle('go');
  }

  /** The session is over here: nobody waits any longer. */
  close(): void {
    for (const waiter of [...this.waiting]) waiter.settle('closed');
  }
}
