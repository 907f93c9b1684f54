/**
 * Checks on what a stream delivered, and waits for transport changes: shared by the suites that
 * prove the exactly-once, in-order promise.
 */
import type { TransportName, WirehopClient } from '@wirehop/client';
import { nextEvent } from './wait.js';

/** Missing, duplicated and out-of-place entries of a stream that should be exactly 0..n-1. */
export function audit(values: number[], n: number) {
  const seen = new Set<number>();
  let duplicated = 0;
  for (const v of values) seen.has(v) ? duplicated++ : seen.add(v);
  let missing = 0;
  for (let i = 0; i < n; i++) if (!seen.has(i)) missing++;
  const reordered = values.filter((v, i) => i > 0 && v < values[i - 1]!).length;
  return { missing, duplicated, reordered, total: values.length };
}

/** The clean result of {@link audit} for n entries. */
export const exactly = (n: number) => ({ missing: 0, duplicated: 0, reordered: 0, total: n });

export interface TransportChange {
  to: TransportName | null;
  reason: string;
  quality: { rtt: number | null };
}

/** Resolves when the client's session moves to `to` (at once if it is there), with the time and the event. */
export function whenOn(client: WirehopClient, to: TransportName, timeoutMs: number): Promise<{ at: number; event?: TransportChange }> {
  if (client.transport === to) return Promise.resolve({ at: performance.now() });
  return nextEvent<[TransportChange]>((l) => client.on('transport', (e) => e.to === to && l(e as TransportChange)), {
    timeoutMs,
    what: `the session to move to ${to}`,
  }).then(([event]) => ({ at: performance.now(), event }));
}
