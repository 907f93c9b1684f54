/**
 * SSE + POST transport (protocol.md §5): downstream is `GET {path}/sse` read as it streams in,
 * upstream is `POST {path}/send` with NDJSON bodies, as many in flight as WELCOME.posts allows (the
 * server applies them in order; one before WELCOME, or from a server that does not say). A new
 * session is created first with `POST {path}/session`, whose body carries what the outbox already
 * holds behind the HELLO; a resume goes straight to `GET /sse`.
 *
 * A POST costs far more than a line in one (tens of µs of CPU with node:http, hundreds with a
 * fetch in Node), so frames are batched: everything queued while the POSTs are in flight goes in
 * the next one, and a POST starts only once the current task is done, so that frames sent in one
 * go (a burst of echoes read from one SSE chunk, an ack next to a message) share a body instead of
 * the first one leaving alone. Several in flight keep the connection busy while each waits for its
 * answer.
 */
import {
  Defaults,
  Headers,
  NDJSON,
  Paths,
  WirehopError,
  createSseFrameParser,
  decodeServerFrame,
  encodeBatch,
  encodeClientControl,
  splitBatch,
} from '@wirehop/protocol';
import type { HttpAnswer } from '../http.js';
import { asWirehopError, takeBatch, type TransportFactory } from './transport.js';

const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/** An HTTP error answer as a WirehopError: the JSON body's code, ack and retryMs (protocol.md §8), else `transport_failed`. */
async function httpError(answer: HttpAnswer, url: string): Promise<WirehopError> {
  let body: { error?: { code?: unknown; message?: unknown; ack?: unknown; retryMs?: unknown } } | undefined;
  try {
    body = JSON.parse(await answer.text());
  } catch {
    // not a wirehop answer (a proxy, a wrong URL)
  }
  const e = body?.error;
  return typeof e?.code === 'string'
    ? new WirehopError(e.code, typeof e.message === 'string' ? e.message : undefined, { status: answer.status, ack: count(e.ack), retryMs: count(e.retryMs) })
    : new WirehopError('transport_failed', `HTTP ${answer.status} from ${url}`, { status: answer.status });
}

/** Opens an SSE + POST transport; the handshake starts at once. */
export const sse: TransportFactory = (options, handlers) => {
  const abort = new AbortController();
  const hello = options.hello!;
  let { sid, token } = hello;
  let done = false;
  /** POSTs in flight, and how many may be; control frames alone never start a second one. */
  let posting = 0;
  let posts = 1;
  /** The queue holds a reliable frame (a message, a request...). */
  let data = false;
  /**
   * What one body may hold. Under WELCOME.batch: that many frames, and maxMessageBytes in all,
   * which the server's maxBatchBytes is never below; a body over the server's limits would be
   * refused, and resent, and refused again.
   */
  let batch: { frames: number; bytes: number } = { frames: Defaults.maxBatchFrames, bytes: Defaults.maxBatchBytes };
  /** A flush is due at the end of the current task (queueMicrotask). */
  let due = false;
  const queue: string[] = [];

  const fail = (error: WirehopError) => {
    if (done) return;
    done = true;
    abort.abort();
    handlers.close(error);
  };
  const request = (path: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string) => {
    const url = options.url + path;
    return options.http({ method, url, headers, body, signal: abort.signal }).then(async (answer) => {
      if (answer.status < 200 || answer.status > 299) throw await httpError(answer, url);
      return answer;
    });
  };
  const sessionHeaders = () => ({ ...options.headers, [Headers.session]: sid ?? '', [Headers.token]: token ?? '' });
  /** Every POST /send's headers: the same once the session is known, so made once. */
  let postHeaders: Record<string, string> | undefined;

  async function run() {
    if (!sid) {
      // What the outbox holds follows the HELLO, as far as the body stays within maxMessageBytes: the
      // server applies it as it creates the session, a round trip before a POST /send could.
      const body = takeBatch([encodeClientControl(hello), ...(options.early?.() ?? [])], Infinity, options.maxMessageBytes);
      const answer = await request(Paths.session, 'POST', { ...options.headers, 'content-type': NDJSON }, encodeBatch(body));
      const decoded = decodeServerFrame(await answer.text());
      if (!decoded.ok) throw new WirehopError(decoded.code, decoded.message);
      if (decoded.frame.type !== 'welcome') throw new WirehopError('bad_frame', `expected a welcome from ${Paths.session}, got ${decoded.frame.type}`);
      ({ sid, token } = decoded.frame);
      if (body.length > 1) handlers.claim?.(sid, token!);
    }
    const created = !hello.sid;
    const response = await request(Paths.sse, 'GET', { ...sessionHeaders(), [Headers.lastEventId]: String(hello.ack ?? 0), accept: 'text/event-stream' });
    const parser = createSseFrameParser({
      maxEventBytes: options.maxMessageBytes,
      onError: fail,
      onFrame(frame, _id, size) {
        if (done) return;
        // The stream's WELCOME has no token; the one from POST /session does, and the session needs it.
        if (frame.type === 'welcome') {
          if (created && frame.token === undefined) frame = { ...frame, token };
          posts = frame.posts ?? 1;
          if (frame.batch) batch = { frames: frame.batch, bytes: frame.maxMessageBytes };
        }
        handlers.frame(frame, size);
      },
    });
    await response.stream((text) => {
      if (done) return;
      // Every byte is liveness, heartbeat comments included: once per chunk, before its frames.
      handlers.alive();
      parser.feed(text);
    });
    if (done) return;
    throw new WirehopError('transport_failed', 'the SSE stream ended');
  }

  const room = () => posting < (data ? posts : 1);

  function flushSoon() {
    if (due || !room()) return;
    due = true;
    queueMicrotask(() => {
      due = false;
      flush();
    });
  }

  function flush() {
    while (!done && queue.length > 0 && room()) {
      post(encodeBatch(takeBatch(queue, batch.frames, batch.bytes)));
      if (queue.length === 0) data = false;
    }
  }

  function post(body: string) {
    posting++;
    request(Paths.send, 'POST', (postHeaders ??= { ...sessionHeaders(), 'content-type': NDJSON }), body)
      .then((response) => response.text())
      .then((text) => {
        // The answer holds control frames only: an ACK (cumulative, so answers may come in any
        // order), and a PONG per PING.
        for (const line of splitBatch(text)) {
          if (done) return;
          const decoded = decodeServerFrame(line);
          if (!decoded.ok) return fail(new WirehopError(decoded.code, decoded.message));
          handlers.frame(decoded.frame, line.length);
        }
        posting--;
        flush();
      })
      .catch((error: unknown) => fail(asWirehopError(error)));
  }

  run().catch((error: unknown) => fail(asWirehopError(error)));
  return {
    send(frames, control) {
      if (done) return;
      if (!control) data = true;
      for (const frame of frames) queue.push(frame);
      flushSoon();
    },
    close(error) {
      const ending = !done && !error && sid && token;
      done = true;
      abort.abort();
      // A dropped stream looks the same as a reconnecting one, so a client closing for good says so
      // (protocol.md §3, "Ending a session on purpose").
      // keepalive: the request survives a page being unloaded.
      if (ending)
        options.http({ method: 'DELETE', url: options.url + Paths.session, headers: sessionHeaders(), keepalive: true }).then((answer) => answer.text()).catch(() => {});
    },
  };
};
