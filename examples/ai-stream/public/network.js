/**
 * A network the page can cut on purpose, for the "Cut connection" button: a `WebSocket` and a
 * `fetch` to hand to createClient (both are public options of @wirehop/client, there to be
 * injected). Cutting closes every open WebSocket and aborts every open event stream of the client,
 * and for a while refuses new ones, which is what a dropped network looks like from the page. The
 * server keeps the session; the client reconnects and resumes it when the cut is over.
 *
 * DevTools' "Offline" is not the same thing: Chromium's offline emulation fails new requests but
 * leaves open connections alone (an open WebSocket's frames are held until it ends, an open event
 * stream keeps flowing), so the page may never see a drop.
 */

/**
 * Close code for the sockets we cut: wirehop's `transport_failed` (protocol.md §9). 1000 would tell
 * the server the client ended its session on purpose, and the session is what must survive.
 */
const CUT_CLOSE_CODE = 4502;
/** Event streams kept track of; a client has one open at a time, and this only bounds leftovers. */
const MAX_STREAMS = 16;

/**
 * @returns {{ WebSocket: typeof WebSocket, fetch: typeof fetch, cut(ms: number): void, readonly cutUntil: number }}
 */
export function createCuttableNetwork() {
  /** @type {Set<WebSocket>} */
  const sockets = new Set();
  /** @type {Set<AbortController>} */
  const streams = new Set();
  let cutUntil = 0;
  const isCut = () => Date.now() < cutUntil;

  class CuttableWebSocket extends WebSocket {
    /** @param {string | URL} url @param {string | string[]} [protocols] */
    constructor(url, protocols) {
      // The client treats a throwing constructor as a failed attempt and retries after a backoff.
      if (isCut()) throw new DOMException('the demo cut the connection', 'NetworkError');
      super(url, protocols);
      sockets.add(this);
      this.addEventListener('close', () => sockets.delete(this));
    }
  }

  /** @type {typeof fetch} */
  async function cuttableFetch(input, init = {}) {
    if (isCut()) throw new TypeError('Failed to fetch: the demo cut the connection');
    // Only long-lived event streams need cutting; a POST in flight finishes in a moment anyway.
    const accept = new Headers(init.headers).get('accept') ?? '';
    if (!accept.includes('text/event-stream')) return fetch(input, init);
    const controller = new AbortController();
    const signal = init.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    init.signal?.addEventListener('abort', () => streams.delete(controller), { once: true });
    streams.add(controller);
    if (streams.size > MAX_STREAMS) streams.delete(streams.values().next().value);
    return fetch(input, { ...init, signal });
  }

  return {
    WebSocket: CuttableWebSocket,
    fetch: cuttableFetch,
    get cutUntil() {
      return cutUntil;
    },
    cut(ms) {
      cutUntil = Date.now() + ms;
      for (const socket of sockets) socket.close(CUT_CLOSE_CODE, 'cut by the demo');
      for (const controller of streams) controller.abort(new DOMException('the demo cut the connection', 'NetworkError'));
      sockets.clear();
      streams.clear();
    },
  };
}
