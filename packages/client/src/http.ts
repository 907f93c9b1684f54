/**
 * The client's HTTP, as the few requests it makes need it (POST /session, GET /sse, POST /send,
 * GET /ping, DELETE /session): one small interface, so that each runtime can use its cheapest
 * client. Browsers, and any `fetch` the application passes, go through {@link fetchHttp}; the Node
 * entry uses node:http (node-http.ts), because a fetch costs Node several times the CPU of the
 * request itself, and the SSE transport makes one per batch of messages.
 */
import { WirehopError } from '@wirehop/protocol';

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Must outlive the page (DELETE /session on close). */
  keepalive?: boolean;
}

/** An answer whose body has not been read yet. Read it (text or stream) so the connection can be reused. */
export interface HttpAnswer {
  status: number;
  text(): Promise<string>;
  /** Reads the body as it arrives, as text; resolves at its end, rejects if it breaks or is aborted. */
  stream(chunk: (text: string) => void): Promise<void>;
}

/** Sends a request; rejects on a network error or an abort, never on an HTTP error status. */
export type Http = (request: HttpRequest) => Promise<HttpAnswer>;

/** {@link Http} over a WHATWG fetch (`credentials` as the client's option says). */
export const fetchHttp =
  (fetchFn: typeof fetch, credentials: RequestCredentials): Http =>
  async ({ url, signal, ...init }) => {
    // A signal per request, tied to the caller's: fetch implementations keep a listener on the
    // signal they are given until the request is collected, so one shared signal (a transport's)
    // would gather a listener per POST for as long as the transport lives. Ours goes once the body
    // has been read.
    const own = new AbortController();
    const stop = () => own.abort();
    const done = () => signal?.removeEventListener('abort', stop);
    signal?.addEventListener('abort', stop);
    if (signal?.aborted) stop();
    try {
      // No redirects (wirehop's paths never redirect; a WebSocket could not follow one either), and
      // no window: with both, fetch sends the request as it is instead of cloning it and teeing
      // its body first, which is a fifth of the CPU of a small POST in Node's fetch.
      const response = await fetchFn(url, { credentials, ...init, signal: own.signal, cache: 'no-store', redirect: 'error', window: null });
      return {
        status: response.status,
        text: () => response.text().finally(done),
        async stream(chunk) {
          try {
            if (!response.body) throw new WirehopError('transport_failed', 'this fetch cannot stream response bodies');
            const reader = response.body.getReader();
            const decoder = new TextDecoder();
            for (let r; !(r = await reader.read()).done; ) chunk(decoder.decode(r.value, { stream: true }));
          } finally {
            done();
          }
        },
      };
    } catch (error) {
      done();
      throw error;
    }
  };
