/**
 * Opening and resuming sessions (protocol.md §3), shared by the WebSocket HELLO and the SSE
 * routes (POST /session creates, GET /sse resumes). Answers are data; each transport turns a
 * failure into its own form (ERROR/BYE + close code, or an HTTP error body).
 */
import {
  ErrorCodes,
  ErrorMeanings,
  PROTOCOL_VERSION,
  WirehopError,
  encodeFrame,
  isErrorCode,
  type ErrorCode,
  type HelloFrame,
} from '@wirehop/protocol';
import type { ResolvedOptions } from './options.js';
import type { LoopDelay } from './timers.js';
import type { ServerSession } from './session.js';
import type { SessionRegistry } from './sessions.js';
import type { AuthContext, UserBase } from './types.js';

/** The refusal of a server that is closing: see {@link HandshakeCore.closing}. */
export type Closing = 'server_closing' | 'server_draining';

/** What the handshake needs of the server. */
export interface HandshakeCore<U extends UserBase> {
  readonly options: ResolvedOptions<U>;
  readonly registry: SessionRegistry<ServerSession<U>>;
  /** How far behind the event loop runs (maxEventLoopDelayMs). */
  readonly loop: LoopDelay;
  /**
   * Why everything new is refused while the server closes: `server_draining` while other servers
   * can take its sessions over (nothing is lost, the client resumes there), else `server_closing`.
   */
  readonly closing: false | Closing;
  /** Registers a new session and tells 'session' listeners. */
  createSession(id: string, user: U): ServerSession<U>;
  /** Brings a session another server process holds here, before a resume looks it up (nodes.ts). */
  adopt(sid: string, token: string): Promise<void>;
  onError(error: unknown, phase: string, session?: ServerSession<U>): void;
}

/** Why a HELLO or resume was refused, in every form a transport needs. */
export interface Refusal {
  ok: false;
  code: string;
  message: string;
  /** HTTP status (the error's, or the authenticate hook's `detail.status`). */
  status: number;
  /** WebSocket close code. */
  close: number;
  /** The session is gone: answer BYE (with ack), not ERROR. */
  endsSession: boolean;
  /** Last client frame processed, when known (ended sessions). */
  ack?: number;
  /** Try again after this many ms, no sooner (server_busy). */
  retryMs?: number;
}

export interface Opened<U extends UserBase> {
  ok: true;
  session: ServerSession<U>;
  resumed: boolean;
  /** The client's resume point: replay starts after it. */
  ack: number;
}

export type HandshakeResult<U extends UserBase> = Opened<U> | Refusal;

/** A refusal with the status and close code of protocol.md §9. */
export function refuse(code: ErrorCode, message?: string, ack?: number): Refusal {
  const info = ErrorCodes[code];
  const refusal: Refusal = { ok: false, code, message: message ?? ErrorMeanings[code], status: info.status, close: info.close, endsSession: info.endsSession };
  if (ack !== undefined) refusal.ack = ack;
  return refusal;
}

/**
 * Why this process opens no new session now, or undefined: it holds maxSessions, or its event loop
 * ran more than maxEventLoopDelayMs late within the last second (come back after the hint), or,
 * once the user is known, that user holds maxSessionsPerUser.
 */
function full<U extends UserBase>({ options, registry, loop }: HandshakeCore<U>, userId?: string): Refusal | undefined {
  const { maxSessions, maxSessionsPerUser, busyRetryMs } = options;
  if (registry.size >= maxSessions) return { ...refuse('server_busy', `the server holds maxSessions (${maxSessions}) sessions; retry in ${busyRetryMs} ms`), retryMs: busyRetryMs };
  const late = loop.over();
  if (late !== undefined) return { ...refuse('server_busy', `the server's event loop ran ${late} ms late, over maxEventLoopDelayMs (${loop.limitMs}); retry in ${busyRetryMs} ms`), retryMs: busyRetryMs };
  if (userId !== undefined && maxSessionsPerUser > 0 && registry.sessionsOf(userId) >= maxSessionsPerUser)
    return refuse('too_many_sessions', `this user holds maxSessionsPerUser (${maxSessionsPerUser}) sessions here; end one first`);
  return undefined;
}

/** The frame a WebSocket gets for a refusal: BYE (with ack) if the session is gone, else ERROR. */
export function refusalFrame(r: Refusal): string {
  return r.endsSession
    ? encodeFrame({ type: 'bye', code: r.code, message: r.message, ack: r.ack ?? 0 })
    : encodeFrame({ type: 'error', code: r.code, message: r.message, retryMs: r.retryMs });
}

/** HTTP error body of protocol.md §8. */
export function refusalBody(r: Pick<Refusal, 'code' | 'message' | 'ack' | 'retryMs'>): { error: { code: string; message: string; ack?: number; retryMs?: number } } {
  const error: { code: string; message: string; ack?: number; retryMs?: number } = { code: r.code, message: r.message };
  if (r.ack !== undefined) error.ack = r.ack;
  if (r.retryMs !== undefined) error.retryMs = r.retryMs;
  return { error };
}

/**
 * Resolves a resume: id + token + the client's last delivered server seq. Synchronous, so the
 * caller can attach before any other frame is queued. The result's `ack` is where the replay
 * starts after (ServerSession.resumeFrom).
 */
export function resume<U extends UserBase>(core: HandshakeCore<U>, sid: string, token: string, ack: number): HandshakeResult<U> {
  if (core.closing) return refuse(core.closing);
  const found = core.registry.lookup(sid, token);
  switch (found.kind) {
    case 'unknown':
      return refuse('session_unknown');
    case 'unauthorized':
      return refuse('unauthorized', 'the resume token does not match the session');
    case 'ended': {
      const { code, message, ack: processed } = found.tombstone;
      return refuse(code, message, processed);
    }
    case 'live': {
      const session = found.session;
      const from = session.resumeFrom(ack);
      if (from === undefined) return refuse('bad_ack', `ack ${ack} is ahead of the last frame sent (${session.held.lastSeq})`);
      return { ok: true, session, resumed: true, ack: from };
    }
  }
}

/** resume(), after bringing the session here if another server process holds it (nodes.ts). */
export async function resumeHere<U extends UserBase>(core: HandshakeCore<U>, sid: string, token: string, ack: number): Promise<HandshakeResult<U>> {
  await core.adopt(sid, token);
  return resume(core, sid, token, ack);
}

/** The HTTP status for a WirehopError a hook threw: its `detail.status` if it set one, else `fallback`. */
export function hookStatus(error: WirehopError, fallback: number): number {
  return typeof error.detail?.status === 'number' ? error.detail.status : fallback;
}

/** The user authenticate() returned, or a refusal. Exceptions that are not WirehopError are reported and hidden. */
export async function authenticateUser<U extends UserBase>(core: Pick<HandshakeCore<U>, 'options' | 'onError'>, id: string, ctx: AuthContext): Promise<{ ok: true; user: U } | Refusal> {
  const hook = core.options.authenticate;
  if (!hook) return { ok: true, user: { id } as U };
  let user: U;
  try {
    user = await hook(ctx);
  } catch (error) {
    if (!(error instanceof WirehopError)) {
      core.onError(error, 'authenticate');
      return refuse('unauthorized', 'authentication failed');
    }
    const known = isErrorCode(error.code) ? ErrorCodes[error.code] : ErrorCodes.unauthorized;
    return { ok: false, code: error.code, message: error.message, status: hookStatus(error, known.status), close: known.close, endsSession: false };
  }
  if (typeof user !== 'object' || user === null || typeof user.id !== 'string' || user.id.length === 0) {
    core.onError(new TypeError('wirehop: authenticate() must return a user object with a non-empty string id'), 'authenticate');
    return refuse('internal', 'authentication failed');
  }
  return { ok: true, user };
}

/**
 * Runs a HELLO: resume (sid given) or a new session after authenticate().
 * @param ctx the request's part of the AuthContext, a fresh object: HELLO's `auth` is added to it.
 */
export async function handshake<U extends UserBase>(core: HandshakeCore<U>, hello: HelloFrame, ctx: Omit<AuthContext, 'auth'>): Promise<HandshakeResult<U>> {
  if (core.closing) return refuse(core.closing);
  if (hello.v !== PROTOCOL_VERSION) return refuse('unsupported_version', `protocol version ${hello.v} is not supported (this server speaks ${PROTOCOL_VERSION})`);
  if (hello.sid !== undefined) return resumeHere(core, hello.sid, hello.token ?? '', hello.ack ?? 0);
  // Refused before authenticate(): a crowd reconnecting at once must not hammer its backend too.
  const busy = full(core);
  if (busy) return busy;
  const id = core.registry.newId();
  // Added to the transport's own object, not copied: its headers and cookies may be getters, built
  // only if authenticate() reads them (most read HELLO.auth alone), which a spread would run here.
  const context = ctx as AuthContext;
  context.auth = hello.auth;
  const auth = await authenticateUser(core, id, context);
  if (!auth.ok) return auth;
  if (core.closing) return refuse(core.closing);
  // Others may have been let in while authenticate() ran.
  const refused = full(core, auth.user.id);
  if (refused) return refused;
  return { ok: true, session: core.createSession(id, auth.user), resumed: false, ack: 0 };
}

/** The WELCOME for an opened session; the token only when the session is new. */
export function welcomeFrame<U extends UserBase>(options: ResolvedOptions<U>, opened: Opened<U>, helloAt: number): string {
  const { session, resumed } = opened;
  const welcome = {
    type: 'welcome' as const,
    v: PROTOCOL_VERSION,
    sid: session.id,
    resumed,
    ack: session.takeAck(),
    heartbeatMs: options.heartbeatMs,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs,
    sessionTtlMs: options.sessionTtlMs,
    maxMessageBytes: options.limits.maxMessageBytes,
    batch: options.limits.maxBatchFrames,
    posts: options.limits.postsInFlight,
    held: Math.max(0, Date.now() - helloAt),
    replayFrames: options.limits.replayBufferFrames,
    replayBytes: options.limits.replayBufferBytes,
  };
  return encodeFrame(resumed ? welcome : { ...welcome, token: session.token });
}

/**
 * A session handshake() returned may have ended before the transport could attach it (a 'session'
 * listener closed it, or it ended while authenticate() ran for a resume): answer as a late resume would.
 */
export function reopened<U extends UserBase>(core: HandshakeCore<U>, result: HandshakeResult<U>): HandshakeResult<U> {
  if (!result.ok || result.session.isOpen) return result;
  const found = core.registry.lookup(result.session.id, result.session.token);
  return found.kind === 'ended' ? refuse(found.tombstone.code, found.tombstone.message, found.tombstone.ack) : refuse('session_unknown');
}
