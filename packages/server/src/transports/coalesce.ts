/**
 * When a downstream's frames leave: at once, or corked until the end of the tick, to leave with the
 * frames behind them in one write (one syscall; on SSE one HTTP chunk, one read for the client).
 * That is what a saturated fan-out, a replay or the echoes of a batch need; but a held frame waits
 * for the whole tick: behind a publish to 500 subscribers, for the other 499 frames to be built,
 * about a millisecond, even when it is the only frame its connection gets. So a connection's first
 * frame of a tick goes at once and only the frames behind it wait, unless the server is in a burst
 * (the last tick that wrote gave some connection a second frame): then one write per connection and
 * tick is what keeps up, and every frame waits from the first.
 */

/** A downstream, as coalescing sees it. */
export interface Coalescing {
  /** The last tick in which it was written: this file's bookkeeping, 0 before the first. */
  tick: number;
  /** Writes what it held back: called at the end of a tick in which holdBack() said to hold. */
  release(): void;
}

/** Counts the ticks in which something was written. */
let tick = 1;
/** This tick wrote: endTick() is scheduled. */
let writing = false;
/** A connection got a second frame in this tick. */
let repeated = false;
/** The last tick that wrote was a burst: this one holds every frame. */
let burst = false;
/** The downstreams holding frames in this tick. */
let held: Coalescing[] = [];

/**
 * Asked by `downstream` before it writes a frame, unless it holds frames of this tick already.
 * True: hold this one and those behind it, until release().
 */
export function holdBack(downstream: Coalescing): boolean {
  if (!writing) {
    writing = true;
    process.nextTick(endTick);
  }
  const again = downstream.tick === tick;
  downstream.tick = tick;
  if (again) repeated = true;
  if (!burst && !again) return false;
  held.push(downstream);
  return true;
}

function endTick(): void {
  tick++;
  writing = false;
  burst = repeated;
  repeated = false;
  const list = held;
  // A write while these release (a callback of a write that failed) counts in the next tick.
  held = [];
  for (const downstream of list) downstream.release();
}
