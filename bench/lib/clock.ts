/**
 * One clock for both processes: `process.hrtime()` reads CLOCK_MONOTONIC, which is system-wide on
 * Linux, so a timestamp taken in the server process can be subtracted from one taken in the client
 * process (Date.now() has only millisecond resolution and can step).
 */

/** Milliseconds on the system-wide monotonic clock, with sub-microsecond resolution. */
export function now(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
