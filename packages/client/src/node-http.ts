/**
 * {@link Http} on node:http and node:https, the Node entry's default. In Node 20 a small fetch POST
 * costs about four times the client CPU of the same request made with node:http (its WHATWG
 * streams, its request and response objects), and the SSE transport makes one per batch of
 * messages: node:http is what makes SSE+POST cheap from a Node process. Connections are kept alive
 * in one pool per process (keep-alive agents, no limit per host: every open SSE stream holds one).
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as TlsAgent, request as httpsRequest, type AgentOptions } from 'node:https';
import type { Http, HttpAnswer } from './http.js';

/** Reads `res` as text, chunk by chunk; resolves at its end, rejects when it breaks. */
function read(res: IncomingMessage, chunk: (text: string) => void): Promise<void> {
  return new Promise((ok, no) => {
    res.setEncoding('utf8');
    res.on('data', chunk);
    res.on('end', ok);
    // A body cut short (aborted, reset, closed early) is an 'error', never a silent end.
    res.on('error', no);
  });
}

/** An {@link Http} with its own connection pools; `tls` adds to the https agent's options (tests: a CA). */
export function createNodeHttp(tls?: AgentOptions): Http {
  const plain = new Agent({ keepAlive: true });
  const secure = new TlsAgent({ ...tls, keepAlive: true });
  /** The last URL parsed: a client asks for the same few again and again. */
  let last: { url: string; https: boolean; hostname: string; port: string; path: string } | undefined;
  return ({ method = 'GET', url, headers, body, signal }) =>
    new Promise<HttpAnswer>((ok, no) => {
      if (last?.url !== url) {
        const u = new URL(url);
        const https = u.protocol === 'https:';
        last = { url, https, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: u.pathname + u.search };
      }
      const { https, hostname, port, path } = last;
      const send = (again: boolean) => {
        let answered = false;
        const req = (https ? httpsRequest : httpRequest)({ hostname, port, path, method, headers, agent: https ? secure : plain }, (res) => {
          answered = true;
          ok({
            status: res.statusCode!,
            text() {
              let text = '';
              return read(res, (s) => (text += s)).then(() => text);
            },
            stream: (chunk) => read(res, chunk),
          });
        });
        // The abort listener, by hand: http.request's own `signal` option costs a stream watcher
        // per request, a tenth of the CPU of a small POST. It goes when the request is over.
        if (signal) {
          const abort = () => req.destroy(new DOMException('This operation was aborted', 'AbortError'));
          if (signal.aborted) abort();
          signal.addEventListener('abort', abort);
          req.once('close', () => signal.removeEventListener('abort', abort));
        }
        req.on('error', (error: NodeJS.ErrnoException) => {
          // A kept-alive socket the server closed just as this request went out (its keep-alive
          // timeout): nothing was answered, so send it once more on a fresh one, as browsers do.
          // Safe for what wirehop sends: POST /send bodies are numbered and the server drops what
          // it already has; a POST /session it did read would leave an unused session, which expires.
          if (!again && !answered && req.reusedSocket && error.code === 'ECONNRESET' && !signal?.aborted) send(true);
          else no(error);
        });
        req.end(body);
      };
      send(false);
    });
}

/** The Node entry's default: one pool per process. */
export const nodeHttp = createNodeHttp();
