/**
 * Over HTTP/1.1 a browser opens about six connections per host, shared by every tab of the origin,
 * and an open SSE stream holds one for good: the seventh tab's stream, and then every POST, would
 * wait forever without a word. So before a client opens an SSE stream in a browser page it takes
 * one of `n` slots shared by the origin's tabs through Web Locks (`wirehop:sse:<server origin>:<i>`),
 * held until it no longer uses SSE or the page goes away. With none free it says so (`tab_limit`),
 * and the connection tries WebSocket or queues for a slot.
 *
 * HTTP/2 and HTTP/3 carry every stream on one connection: a client whose requests to the server
 * went over h2 or h3 (Resource Timing's `nextHopProtocol`; cross-origin the server must answer
 * `Timing-Allow-Origin`) needs no slot. A client that found no slot free finds out with one
 * `GET {path}/ping`. Without Web Locks (Node, old browsers) or a document (workers)
 * there are no slots, as before.
 */
import { Paths, WirehopError } from '@wirehop/protocol';
import type { Http } from './http.js';

/** How long the GET that tells HTTP/1.1 from HTTP/2 may take; after it, the answer is "HTTP/1.1". */
const PING_TIMEOUT_MS = 1000;

export interface TabSlots {
  /**
   * Resolves true once this client may open an SSE stream: it holds a slot, or needs none. With
   * none free, `busy` hears why; unless it returns true, resolves false instead of queueing.
   */
  take(busy: (error: WirehopError) => boolean): Promise<boolean>;
  /** Gives the slot back, or calls off the wait (that take then resolves false, or never). */
  free(): void;
}

/**
 * True if the newest request to `origin` that Resource Timing lists went over HTTP/2 or HTTP/3
 * (`h2`, `h3`, `h3-29`...). All of an origin's requests share one connection pool, so the page's
 * own files count too. An entry without `nextHopProtocol` (cross-origin without
 * `Timing-Allow-Origin`) says no.
 */
export const multiplexed = (entries: Array<{ name: string; nextHopProtocol: string }>, origin: string): boolean =>
  /^h[23]/.test(entries.findLast((e) => e.name.startsWith(origin + '/'))?.nextHopProtocol ?? '');

/**
 * The slots of the client of `base`, or undefined where there are none to take (every browser
 * with Web Locks has Resource Timing).
 * @param n slots per server origin (`sseTabSlots`, default 4); 0 or Infinity: none
 */
export function tabSlots(base: string, n = 4, http: Http): TabSlots | undefined {
  const locks = typeof document == 'object' && globalThis.navigator?.locks;
  if (!locks || !(n > 0 && n < Infinity)) return;
  const origin = new URL(base).origin;
  const h2 = () => multiplexed(performance.getEntriesByType('resource') as PerformanceResourceTiming[], origin);
  /** Set while this client holds a slot: gives it back. */
  let release: (() => void) | undefined;
  /**
   * Bumped by every take, win and free: a grant to an older take is given back at once. (Queued
   * requests are not aborted, they pass the slot on when their turn comes: less code.)
   */
  let gen = 0;

  /** Requests slot `i` for take `g`; `done(true)` if it became ours (held until release()). */
  const ask = (g: number, i: number, ifAvailable: boolean, done: (ours: boolean) => void) =>
    void locks.request(`wirehop:sse:${origin}:${i}`, { ifAvailable }, (lock) => {
      if (!lock || g !== gen) return done(false); // returns nothing: released at once
      gen++;
      done(true);
      return new Promise<void>((r) => (release = r));
    });

  return {
    free() {
      gen++;
      release?.();
      release = undefined;
    },
    async take(busy) {
      if (release || h2()) return true;
      const g = ++gen;
      for (let i = 0; i < n; ) if (await new Promise<boolean>((done) => ask(g, i++, true, done))) return true;
      // None free. Does this client need one? The answer to a request of its own says.
      // Bounded in time (nothing else times this wait); how it ends does not matter, only over what.
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), PING_TIMEOUT_MS);
      await http({ url: base + Paths.ping, headers: {}, signal: stop.signal })
        .then((answer) => answer.text())
        .catch(() => {});
      clearTimeout(timer);
      return (
        h2() ||
        (g === gen &&
          busy(new WirehopError('tab_limit', `${origin}: too many tabs hold SSE streams over HTTP/1.1; serve HTTP/2 or use WebSocket`)) &&
          new Promise<boolean>((done) => {
            for (let i = 0; i < n; ) ask(g, i++, false, done);
          }))
      );
    },
  };
}
