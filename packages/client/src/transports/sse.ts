/**
 * SSE + POST transport (protocol.md §5): downstream is `GET {path}/sse` read as it streams in,
 * upstream is `POST {path}/send` with NDJSON bodies, as many in flight as WELCOME.posts allows (the
 * server applies them in order; one before WELCOME, or from a server that does not say). A new
 * session is created first with `POST {path}/session`, whose body carries what the outbox already
 * holds behind the HELLO; a resume goes straight to `GET /sse`, with what the outbox holds in a
 * POST /send beside it rather than a round trip later.
 *
 * Before the stream's WELCOME, one request carries the frames sent behind the HELLO (that body, or
 * that POST), and no other POST goes until it is answered. Its answer is held until WELCOME has
 * been passed on (the client reads nothing else first). The stream alone decides whether the
 * session goes on: that POST may reach another node than the stream, whose refusal says nothing
 * of the session, so if it fails its frames go again after WELCOME. A failure of the stream waits
 * for its answer, which says whether the server applied those frames (`handlers.unsent`): the
 * client needs to know should the session turn out to be gone.
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
  PIPELINED_FRAMES,
  Paths,
  WirehopError,
  type ServerFrame,
  createSseFrameParser,
  decodeServerFrame,
  encodeBatch,
  encodeClientControl,
  isCount,
  splitBatch,
  utf8Length,
} from '@wirehop/protocol';
import type { HttpAnswer } from '../http.js';
import { asWirehopError, takeBatch, type TransportFactory } from './transport.js';

const count = (v: unknown) => (isCount(v) ? v : undefined);

/** The server answered with one of its error codes: it refused the request, rather than the network losing it. */
const refused = (error: WirehopError) => error.code !== 'transport_failed' && error.detail?.status !== undefined;

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

/** Opens an SSE + POST transport; the handshake starts once this returned. */
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
   * refused, and resent, and refused again. Before WELCOME, what a server takes behind a HELLO.
   */
  let batch: { frames: number; bytes: number } = { frames: PIPELINED_FRAMES, bytes: options.maxMessageBytes };
  /** A flush is due at the end of the current task (queueMicrotask). */
  let due = false;
  const queue: string[] = [];
  /** The stream's WELCOME has been passed on. */
  let welcomed = false;
  /** The one request with frames behind the HELLO (POST /session, or a resume's first POST /send): out, refused by the server, or settled. */
  let early: 'none' | 'sent' | 'refused' | 'settled' = 'none';
  /** The ack of that refusal: what the server applied of it. */
  let refusedAck: number | undefined;
  /** Its answer's frames, until WELCOME. */
  const held: Array<[ServerFrame, number]> = [];
  /** A failure that waits for that answer. */
  let failure: WirehopError | undefined;

  const fail = (error: WirehopError) => {
    if (done) return;
    // The client's deadline for WELCOME bounds the wait.
    if (!welcomed && early === 'sent') return void (failure ??= error);
    done = true;
    abort.abort();
    if (!welcomed && early === 'refused') handlers.unsent?.(refusedAck);
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
    if (done) return;
    if (!sid) {
      // What the outbox holds follows the HELLO, as far as the body stays within maxMessageBytes: the
      // server applies it as it creates the session, a round trip before a POST /send could, and
      // the stream's WELCOME.ack counts what it applied. The client sends the rest after WELCOME.
      const first = encodeClientControl(hello);
      const body = [first, ...(options.early?.(options.maxMessageBytes - utf8Length(first) - 1) ?? [])];
      const answer = await request(Paths.session, 'POST', { ...options.headers, 'content-type': NDJSON }, encodeBatch(body)).catch((error) => {
        // Refused before the server looked past the HELLO (protocol.md §5): fail() says so.
        if (body.length > 1 && refused(asWirehopError(error))) early = 'refused';
        throw error;
      });
      const decoded = decodeServerFrame(await answer.text());
      if (!decoded.ok) throw new WirehopError(decoded.code, decoded.message);
      if (decoded.frame.type !== 'welcome') throw new WirehopError('bad_frame', `expected a welcome from ${Paths.session}, got ${decoded.frame.type}`);
      ({ sid, token } = decoded.frame);
      if (body.length > 1) handlers.claim?.(sid, token!);
    } else handlers.open?.(); // a resume: what this sends is posted at once, beside the stream
    if (done) return;
    const created = !hello.sid;
    const response = await request(Paths.sse, 'GET', { ...sessionHeaders(), [Headers.lastEventId]: String(hello.ack ?? 0), accept: 'text/event-stream' });
    const parser = createSseFrameParser({
      maxEventBytes: options.maxMessageBytes,
      onError: fail,
      onFrame(frame, _id, size) {
        if (done) return;
        if (frame.type !== 'welcome' || welcomed) return handlers.frame(frame, size);
        // The stream's WELCOME has no token; the one from POST /session does, and the session needs it.
        if (created && frame.token === undefined) frame = { ...frame, token };
        posts = frame.posts ?? 1;
        batch = frame.batch ? { frames: frame.batch, bytes: frame.maxMessageBytes } : { frames: Defaults.maxBatchFrames, bytes: Defaults.maxBatchBytes };
        welcomed = true;
        handlers.frame(frame, size);
        for (const [f, n] of held.splice(0)) if (!done) handlers.frame(f, n);
        flush();
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

  // Before WELCOME, one request only: the one with the frames behind the HELLO; the next waits for its answer.
  const room = () => (welcomed ? early !== 'sent' && posting < (data ? posts : 1) : early === 'none' && !!sid);

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
      post(takeBatch(queue, batch.frames, batch.bytes));
      if (queue.length === 0) data = false;
    }
  }

  function post(frames: string[]) {
    posting++;
    const first = early === 'none' && !welcomed;
    if (first) early = 'sent';
    request(Paths.send, 'POST', (postHeaders ??= { ...sessionHeaders(), 'content-type': NDJSON }), encodeBatch(frames))
      .then((response) => response.text())
      .then((text) => {
        // The answer holds control frames only: an ACK (cumulative, so answers may come in any
        // order), and a PONG per PING.
        const answer: Array<[ServerFrame, number]> = [];
        for (const line of splitBatch(text)) {
          const decoded = decodeServerFrame(line);
          if (!decoded.ok) throw new WirehopError(decoded.code, decoded.message);
          answer.push([decoded.frame, line.length]);
        }
        if (!welcomed) held.push(...answer);
        else for (const [f, n] of answer) if (!done) handlers.frame(f, n);
        posting--;
        if (first) settled('settled');
        flush();
      })
      .catch((error: unknown) => {
        const e = asWirehopError(error);
        if (!first) return fail(e);
        posting--;
        // Not applied, or only up to its ack (refused, protocol.md §8), or perhaps (no answer): either
        // way these go again after WELCOME, and the server drops by seq what it has.
        refusedAck = count(e.detail?.ack);
        queue.unshift(...frames);
        data = true;
        settled(!welcomed && refused(e) ? 'refused' : 'settled');
        flush();
      });
  }

  /** The early request got its answer (or none will come): a failure that waited for it goes on. */
  function settled(how: 'refused' | 'settled') {
    early = how;
    if (failure) fail(failure);
  }

  // handlers.open sends through this transport, which the caller holds once this returns.
  queueMicrotask(() => run().catch((error: unknown) => fail(asWirehopError(error))));
  return {
    send(frames, control) {
      if (done || frames.length === 0) return;
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
