/**
 * A windowed echo stream on one connection: at most `window` messages in flight, the next sent as
 * each echo comes back. Counts every echo once, and notes duplicates and echoes that overtook an
 * earlier one. Shared by the upstream scenario and the transport-switching one.
 */
import { now } from '../lib/clock.js';
import { encodePayload, payloadSeq } from '../lib/payload.js';
import type { BenchConnection } from '../stacks/types.js';

export interface WindowRun {
  /** Messages sent. */
  sent: number;
  /** Distinct echoes received. */
  received: number;
  duplicated: number;
  /** Echoes that arrived after a later one. */
  reordered: number;
  /** From the first send to the last echo (or to the deadline). */
  elapsedMs: number;
}

export interface WindowOptions {
  window: number;
  /** Stop sending after this many messages... */
  count?: number;
  /** ...or after this long. */
  durationMs?: number;
  /** Wait this long at most for the last echoes. */
  drainMs: number;
}

/** Runs the stream on `conn` until all `count` echoes came back, or `durationMs` plus draining passed. */
export function windowedEcho(conn: BenchConnection, o: WindowOptions): Promise<WindowRun> {
  // A timed run stops sending at 4M messages, far beyond what any stack here does in seconds.
  const count = Math.min(o.count ?? Infinity, 4_000_000);
  const seen = new Uint8Array(count);
  let sent = 0;
  let received = 0;
  let duplicated = 0;
  let reordered = 0;
  let highest = -1;
  let lastAt = 0;
  const start = now();
  const sendEnd = o.durationMs === undefined ? Infinity : start + o.durationMs;
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      conn.onMessage(() => undefined);
      resolve({ sent, received, duplicated, reordered, elapsedMs: (received === sent ? lastAt : now()) - start });
    };
    const sendOne = () => {
      conn.send(encodePayload(sent, 0));
      sent++;
    };
    conn.onMessage((data) => {
      const seq = payloadSeq(data);
      if (seq < 0 || seq >= sent || seen[seq]) {
        duplicated++;
        return;
      }
      seen[seq] = 1;
      received++;
      if (seq < highest) reordered++;
      else highest = seq;
      lastAt = now();
      if (sent < count && lastAt < sendEnd) sendOne();
      else if (received === sent) finish();
    });
    const limit = (o.durationMs ?? 0) + o.drainMs;
    const timer = setTimeout(finish, limit);
    if (o.durationMs !== undefined) setTimeout(() => received === sent && finish(), o.durationMs);
    for (let i = 0; i < o.window && i < count; i++) sendOne();
  });
}
