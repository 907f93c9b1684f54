/**
 * The HTTP routes of protocol.md §5, as a Hono app relative to the base path: POST /session,
 * GET /sse, POST /send, GET /ping, GET /events (a channel for a plain EventSource, event-streams.ts),
 * OPTIONS (CORS preflight), DELETE /session (ends a session), and JSON bad_request answers for GET /ws without an upgrade and for other methods. SSE is written straight to the Node response and POST bodies are read straight from the
 * Node request (c.env from @hono/node-server), so limits apply as bytes arrive.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import {
  Defaults,
  Headers as WirehopHeaders,
  NDJSON,
  Paths,
  decodeClientFrame,
  encodeBatch,
  encodeFrame,
  utf8Length,
  type ErrorCode,
} from '@wirehop/protocol';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { processBatch, textBody, type BatchAnswer } from './batch.js';
import { readLines, readText } from './body.js';
import { EVENTS_PATH, type EventStreams } from './event-streams.js';
import { handshake, refuse, refusalBody, reopened, resumeHere, welcomeFrame, type HandshakeCore, type Refusal } from './handshake.js';
import { corsHeaders, preflightHeaders } from './origin.js';
import { parseCookies } from './request-info.js';
import type { ServerSession } from './session.js';
import { writeRetryLater } from './transports/eventsource.js';
import { SseDownstream, sseHeaders } from './transports/sse.js';
import type { ServerLimits, UserBase } from './types.js';

/** What the routes need of the server. */
export interface HttpHost<U extends UserBase> extends HandshakeCore<U> {
  /** Handing its sessions over (wirehop.ts, drain): still answers their POSTs and DELETEs. */
  readonly draining: boolean;
  /** Answers a POST /send or DELETE /session for a session another node holds; undefined if none does. */
  forward(kind: 'send' | 'delete', sid: string, token: string, body?: string): Promise<BatchAnswer | undefined>;
  /** The Origin allow-list decision (a throwing policy function counts as "no"). */
  originAllowed(origin: string | undefined, host: string | undefined, request: () => Request): boolean;
  /** The EventSource channel streams (GET /events). */
  readonly eventStreams: EventStreams<U>;
}

type Env = {
  Bindings: Partial<{ incoming: IncomingMessage | Http2ServerRequest; outgoing: ServerResponse | Http2ServerResponse }>;
  Variables: { cors: Record<string, string> };
};
type C = Context<Env>;

function fail(c: C, r: Pick<Refusal, 'code' | 'message' | 'ack' | 'status' | 'retryMs'>): Response {
  const headers = r.retryMs === undefined ? c.get('cors') : { ...c.get('cors'), 'retry-after': String(Math.ceil(r.retryMs / 1000)) };
  return c.json(refusalBody(r), r.status as 400, headers);
}

function failCode(c: C, code: ErrorCode, message?: string, ack?: number): Response {
  return fail(c, refuse(code, message, ack));
}

/**
 * CORS headers plus Timing-Allow-Origin for the same origin: a cross-origin page can then read the
 * answer's HTTP version in Resource Timing, which tells the client it needs no tab slot (client
 * tab-slots.ts).
 */
function timed(c: C): Record<string, string> {
  const cors = c.get('cors');
  const origin = cors['access-control-allow-origin'];
  return origin ? { ...cors, 'timing-allow-origin': origin } : cors;
}

/** Routes that need Node's request/response objects answer this elsewhere. */
function notOnNode(c: C): Response {
  return failCode(c, 'internal', 'wirehop HTTP routes must be served by @hono/node-server (c.env.incoming/outgoing missing)');
}

function contentLength(c: C): number | undefined {
  const raw = c.req.header('content-length');
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The live session named by the X-Wirehop-Session/-Token headers, or the error answer: 400 without
 * them, 404 unknown, 401 wrong token, and the tombstone's code (with its ack) for an ended one.
 */
function sessionFromHeaders<U extends UserBase>(c: C, host: HttpHost<U>, route: string): ServerSession<U> | Response {
  const sid = c.req.header(WirehopHeaders.session);
  const token = c.req.header(WirehopHeaders.token);
  if (!sid || !token) return failCode(c, 'bad_request', `${route} needs the ${WirehopHeaders.session} and ${WirehopHeaders.token} headers`);
  const found = host.registry.lookup(sid, token);
  if (found.kind === 'unknown') return failCode(c, 'session_unknown');
  if (found.kind === 'unauthorized') return failCode(c, 'unauthorized', 'the resume token does not match the session');
  if (found.kind === 'ended') return failCode(c, found.tombstone.code, found.tombstone.message, found.tombstone.ack);
  return found.session;
}

/**
 * What a draining server still answers, until its drain is over: a session's POSTs and its DELETE.
 * They concern a session that lives here until another node takes it over (or that moved, and then
 * they are forwarded); everything that would start or resume a session here is refused, so that it
 * happens elsewhere. Once the drain is over (and the broker closed) nothing is answered here.
 */
const goesOn = (c: C) => (c.req.method === 'POST' && c.req.path.endsWith(Paths.send)) || c.req.method === 'DELETE';

/**
 * A draining server's refusal leaves the connection: the client's next request opens a new one,
 * which a balancer can send to another node. Otherwise a kept-alive connection, or the one HTTP/2
 * connection a browser keeps per origin, brings every retry back here until the drain is over.
 */
function elsewhere(c: C, refused: Response): void {
  const incoming = c.env?.incoming;
  if (incoming && incoming.httpVersionMajor >= 2) (incoming as Http2ServerRequest).stream?.session?.close(); // GOAWAY: no new streams
  else refused.headers.set('connection', 'close');
}

/**
 * A POST /session body: the HELLO as the first line of NDJSON with frames after it, or alone as one
 * JSON value, perhaps over several lines. Undefined when the HELLO is over maxMessageBytes; it is
 * measured before it is parsed.
 */
function sessionBody(text: string, limits: ServerLimits): { decoded: ReturnType<typeof decodeClientFrame>; rest: string } | undefined {
  const nl = text.indexOf('\n');
  const line = nl === -1 ? text : text.slice(0, nl);
  if (utf8Length(line) > limits.maxMessageBytes) return undefined;
  const decoded = decodeClientFrame(line.trim(), limits);
  if (decoded.ok || nl === -1) return { decoded, rest: nl === -1 ? '' : text.slice(nl + 1) };
  if (utf8Length(text) > limits.maxMessageBytes) return undefined;
  return { decoded: decodeClientFrame(text.trim(), limits), rest: '' };
}

/** The Hono app with wirehop's routes, relative to the base path. */
export function createRoutes<U extends UserBase>(host: HttpHost<U>): Hono<Env> {
  const { limits } = host.options;
  const app = new Hono<Env>();

  // Only wirehop's own paths: mounted at '/', a '*' middleware would also guard the application's routes.
  const paths: string[] = [...Object.values(Paths), EVENTS_PATH];
  const guard: MiddlewareHandler<Env> = async (c, next) => {
    const origin = c.req.header('origin');
    // HTTP/2 has :authority instead of Host; the adapter puts it in the URL.
    const hostHeader = c.req.header('host') ?? new URL(c.req.url).host;
    if (!host.originAllowed(origin, hostHeader, () => c.req.raw)) {
      c.set('cors', {});
      return failCode(c, 'forbidden_origin', `origin ${origin} is not allowed`);
    }
    c.set('cors', corsHeaders(host.options, origin));
    if (host.closing && c.req.method !== 'OPTIONS' && !(host.draining && goesOn(c))) {
      const refused = failCode(c, host.closing);
      if (host.closing === 'server_draining') elsewhere(c, refused);
      return refused;
    }
    await next();
  };
  for (const path of paths) app.use(path, guard);

  for (const path of paths)
    app.options(path, (c) => c.body(null, 204, preflightHeaders(host.options, c.req.header('origin'), c.req.header('access-control-request-headers'))));

  app.get(Paths.ping, (c) => c.body(null, 204, timed(c)));

  app.get(Paths.websocket, (c) => failCode(c, 'bad_request', 'GET /ws needs a WebSocket upgrade (is attach() wired to the HTTP server?)'));

  app.post(Paths.session, async (c) => {
    const incoming = c.env?.incoming;
    if (!incoming) return notOnNode(c);
    // The HELLO, alone (JSON, perhaps pretty-printed) or as the first line of NDJSON followed by
    // frames (protocol.md §5): a body as large as a POST /send may be.
    const length = contentLength(c);
    if (length !== undefined && length > limits.maxBatchBytes) return failCode(c, 'body_too_large', `body exceeds maxBatchBytes (${limits.maxBatchBytes} bytes)`);
    const text = await readText(incoming, limits.maxBatchBytes);
    if (text === undefined) return failCode(c, 'bad_request', 'the request body was cut short');
    if (typeof text !== 'string') return failCode(c, text.code, text.message);
    const body = sessionBody(text, limits);
    if (!body) return failCode(c, 'message_too_large', `HELLO exceeds maxMessageBytes (${limits.maxMessageBytes})`);
    const { decoded, rest } = body;
    if (!decoded.ok) return failCode(c, decoded.code, decoded.message);
    const hello = decoded.frame;
    const helloAt = Date.now();
    if (hello.type !== 'hello') return failCode(c, 'bad_frame', `expected a HELLO frame, got ${hello.type}`);
    if (hello.sid !== undefined) return failCode(c, 'bad_request', 'POST /session only creates sessions: resume with GET /sse');
    const headers = c.req.raw.headers;
    let cookies: Record<string, string> | undefined;
    const result = reopened(host, await handshake(host, hello, {
      headers,
      get cookies() {
        return (cookies ??= parseCookies(headers.get('cookie')));
      },
      transport: 'sse',
      ip: incoming.socket?.remoteAddress,
    }));
    if (!result.ok) return fail(c, result);
    // Frames behind the HELLO are applied as a POST /send body would be; what they produce waits in
    // the replay buffer for GET /sse. Not answered here: the client sends again what WELCOME.ack
    // leaves out, and a bad frame gets its error on that POST /send.
    if (rest !== '') await processBatch(host, result.session, textBody(rest));
    return c.body(welcomeFrame(host.options, result, helloAt), 200, { ...timed(c), 'content-type': 'application/json' });
  });

  // protocol.md §5: an SSE client that closes for good says so, since a dropped stream cannot tell
  // "gone" from "reconnecting". WebSocket clients close with 1000 instead.
  app.delete(Paths.session, async (c) => {
    let session = sessionFromHeaders(c, host, 'DELETE /session');
    if (session instanceof Response && session.status === 404) session = (await forwarded(c, host, 'delete')) ?? lookedUpAgain(c, host, 'DELETE /session', session);
    // Ending a session that already ended is not an error: the client's intent is satisfied.
    if (session instanceof Response) return session.status === 410 ? c.body(null, 204, c.get('cors')) : session;
    session.end('client_closed', 'the client closed the session');
    return c.body(null, 204, c.get('cors'));
  });

  app.get(Paths.sse, async (c) => {
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) return notOnNode(c);
    const helloAt = Date.now();
    const sid = c.req.header(WirehopHeaders.session);
    const token = c.req.header(WirehopHeaders.token);
    if (!sid || !token) return failCode(c, 'bad_request', `GET /sse needs the ${WirehopHeaders.session} and ${WirehopHeaders.token} headers`);
    const lastEventId = c.req.header(WirehopHeaders.lastEventId)?.trim() || '0';
    const ack = /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : NaN;
    if (Number.isNaN(ack)) return failCode(c, 'bad_request', 'Last-Event-ID must be a non-negative integer');
    const result = reopened(host, await resumeHere(host, sid, token, ack));
    if (!result.ok) return fail(c, result);
    // The client may be gone already: then 'close' was emitted before we could listen for it.
    if (outgoing.destroyed || incoming.socket?.destroyed) return RESPONSE_ALREADY_SENT;
    const session = result.session;
    const downstream: SseDownstream = new SseDownstream(
      outgoing,
      sseHeaders(incoming.httpVersionMajor >= 2, c.get('cors')),
      Defaults.sseRetryMs,
      () => session.detach(downstream, Date.now()),
    );
    session.attach(downstream, result.ack, welcomeFrame(host.options, result, helloAt), Date.now());
    return RESPONSE_ALREADY_SENT;
  });

  app.get(EVENTS_PATH, async (c) => {
    const { incoming, outgoing } = c.env ?? {};
    if (!incoming || !outgoing) return notOnNode(c);
    const refused = await host.eventStreams.open({
      query: new URL(c.req.url).searchParams,
      headers: c.req.raw.headers,
      ip: incoming.socket?.remoteAddress,
      response: outgoing,
      http2: incoming.httpVersionMajor >= 2,
      cors: c.get('cors'),
      gone: () => outgoing.destroyed || incoming.socket?.destroyed === true,
    });
    if (!refused) return RESPONSE_ALREADY_SENT;
    if (refused.retryMs === undefined) return fail(c, refused);
    writeRetryLater(outgoing, sseHeaders(incoming.httpVersionMajor >= 2, c.get('cors')), refused.code, refused.message, refused.retryMs);
    return RESPONSE_ALREADY_SENT;
  });

  app.post(Paths.send, async (c) => {
    const incoming = c.env?.incoming;
    if (!incoming) return notOnNode(c);
    const session = sessionFromHeaders(c, host, 'POST /send');
    if (session instanceof Response) return session.status === 404 ? ((await forwarded(c, host, 'send', incoming)) ?? lookedUpAgain(c, host, 'POST /send', session)) : session;
    const length = contentLength(c);
    if (length !== undefined && length > limits.maxBatchBytes)
      return failCode(c, 'body_too_large', `body exceeds maxBatchBytes (${limits.maxBatchBytes} bytes)`, session.processed);
    return answerBatch(c, host, session, incoming);
  });

  // Registered last: only methods no route above took.
  for (const path of paths) app.all(path, (c) => failCode(c, 'bad_request', `${c.req.method} is not supported on ${path}`));

  return app;
}

/**
 * The refusal for a session no live node holds, looked up again after forwarded(): the lookup may
 * now know the tombstone another node left (nodes.ts), and answer with how far the session got.
 */
function lookedUpAgain<U extends UserBase>(c: C, host: HttpHost<U>, what: string, unknown: Response): Response {
  const again = sessionFromHeaders(c, host, what);
  return again instanceof Response ? again : unknown;
}

/**
 * A POST /send or DELETE /session for a session this node does not hold, answered by the node that
 * does (no sticky sessions needed). Undefined when no live node holds it.
 */
async function forwarded<U extends UserBase>(c: C, host: HttpHost<U>, kind: 'send' | 'delete', incoming?: IncomingMessage | Http2ServerRequest): Promise<Response | undefined> {
  const sid = c.req.header(WirehopHeaders.session) ?? '';
  const token = c.req.header(WirehopHeaders.token) ?? '';
  let body = '';
  if (incoming) {
    const text = await readText(incoming, host.options.limits.maxBatchBytes);
    if (text === undefined) return failCode(c, 'bad_request', 'the request body was cut short');
    if (typeof text !== 'string') return failCode(c, text.code, text.message);
    body = text;
  }
  let answer: BatchAnswer | undefined;
  try {
    answer = await host.forward(kind, sid, token, body);
  } catch (error) {
    host.onError(error, 'forward');
    return failCode(c, 'broker_unavailable', 'the server holding this session did not answer; retry');
  }
  if (!answer) return undefined;
  if (answer.status === 204) return c.body(null, 204, c.get('cors'));
  return c.body(answer.body, answer.status as 200, { ...c.get('cors'), 'content-type': answer.contentType });
}

/** Reads a POST /send body line by line into the session and answers ACK (+ PONGs), or the first error with the ack. */
async function answerBatch<U extends UserBase>(c: C, host: HttpHost<U>, session: ServerSession<U>, incoming: IncomingMessage | Http2ServerRequest): Promise<Response> {
  const answer = await processBatch(host, session, (splitter) => readLines(incoming, splitter));
  return c.body(answer.body, answer.status as 200, { ...c.get('cors'), 'content-type': answer.contentType });
}
