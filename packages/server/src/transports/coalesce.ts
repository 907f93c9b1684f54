/**
 * When an SSE response's events leave: at once, or held to the end of the tick, to leave with the
 * events behind them in one write (one HTTP chunk, one read for the client). Holding is what a
 * saturated fan-out, a replay or the echoes of a POST body need; but a held event waits for the
 * whole tick: behind a publish to 500 subscribers, for the other 499 to be queued, about a
 * millisecond, even when it is the only event its response gets. So a response's first event of a
 * tick goes at once and only the events behind it wait, unless the server is in a burst (the last
 * tick that wrote gave some response a second event): then every event waits from the first.
 *
 * The WebSocket transport does not use this: it corks every frame to the end of its tick. Written
 * through this way, it lost saturated fan-out in three sets of runs (bench/README.md).
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
/** A response got a second event in this tick. */
let repeated = false;
/** The last tick that wrote was a burst: this one holds every event. */
let burst = false;
/** The responses holding events in this tick. */
let held: Coalescing[] = [];

/**
 * Asked by `downstream` before it writes an event, unless it holds events of this tick already.
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
