/**
 * The WebSocket transport (protocol.md §4): one `ws` socket carries a session both ways. Before
 * HELLO a connection belongs to no session; after WELCOME its messages go to the session and the
 * session writes through a WsDownstream. Oversize messages never reach us: `ws` enforces
 * maxPayload and closes with 1009.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCodes, PIPELINED_FRAMES, decodeClientFrame, encodeFrame, splitBatch, type ErrorCode } from '@wirehop/protocol';
import { WebSocket, type RawData } from 'ws';
import { handshake, refusalFrame, reopened, welcomeFrame, type HandshakeCore } from '../handshake.js';
import { headersFromNode, parseCookies } from '../request-info.js';
import type { ServerSession } from '../session.js';
import type { UserBase } from '../types.js';
import { applyClientFrame } from '../upstream.js';
import { waitForDrain, type Downstream } from './transport.js';

/** Close code of a client that is done with its session (RFC 6455 normal closure). */
const CLIENT_CLOSED = 1000;

/** A message as `ws` hands it over, or one frame of the HELLO's message (already text). */
type Message = [data: RawData | string, isBinary: boolean];

/** What `early` becomes once open: nothing is buffered any more, so every connection can share one. */
const NOTHING_EARLY: readonly Message[] = Object.freeze([]);

/** A WebSocket as a session's downstream. */
export class WsDownstream implements Downstream {
  readonly kind = 'websocket' as const;
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
  ) {}

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  buffered(): number {
    return this.ws.bufferedAmount;
  }

  write(encodedFrame: string): void {
    if (!this.open) return;
    // Frames queued in the same tick (a replay, a burst of publishes) leave in one syscall.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      // One callback for every socket corked in this tick: a fan-out corks all its recipients'.
      if (corkedSockets.push(this) === 1) process.nextTick(uncorkAll);
    }
    this.ws.send(encodedFrame);
  }

  /** Called at the end of the tick that corked: what write() queued leaves in one syscall. */
  uncork(): void {
    this.corked = false;
    this.socket.uncork();
  }

  heartbeat(now: number): void {
    this.write(encodeFrame({ type: 'ping', n: now }));
  }

  whenDrained(resume: () => void): void {
    waitForDrain(this.socket as Socket, resume);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, closeReason(reason));
  }
}

/** What a connection needs of the server. */
export interface WsHost<U extends UserBase> extends HandshakeCore<U> {
  connectionClosed(connection: WsConnection<U>): void;
}

type Phase = 'hello' | 'opening' | 'open' | 'closed';

/** One upgraded WebSocket, from the upgrade until it closes. */
export class WsConnection<U extends UserBase> {
  readonly openedAt = Date.now();
  private phase: Phase = 'hello';
  private session: ServerSession<U> | null = null;
  private early: readonly Message[] | Message[] = [];
  /** When HELLO was read: WELCOME says how long the server held it. */
  private helloAt = 0;
  private readonly downstream: WsDownstream;
  /**
   * The upgrade request, until HELLO has read what authenticate() sees from it: an idle session
   * would otherwise keep Node's whole IncomingMessage (headers twice over, stream state) for life.
   */
  private request: IncomingMessage | null;

  constructor(
    private readonly ws: WebSocket,
    socket: Duplex,
    request: IncomingMessage,
    private readonly host: WsHost<U>,
  ) {
    this.request = request;
    this.downstream = new WsDownstream(ws, socket);
    ws.on('message', (data, isBinary) => this.wsOnMessage(data, isBinary));
    ws.on('close', (code) => this.wsOnClose(code));
    ws.on('error', (error) => host.onError(error, 'websocket', this.session ?? undefined));
  }

  /**
   * True until WELCOME: no HELLO yet, or authenticate() still running. The sweep closes these after
   * helloTimeoutMs, so a hook that never settles cannot hold sockets open forever.
   */
  get awaitingWelcome(): boolean {
    return this.phase === 'hello' || this.phase === 'opening';
  }

  /** Sends ERROR `code` and closes with its close code (protocol.md §9). The session, if any, stays. */
  fail(code: ErrorCode, message: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.downstream.open) this.ws.send(encodeFrame({ type: 'error', code, message }));
    this.downstream.close(ErrorCodes[code].close, message);
  }

  /** Closes without a frame (server shutdown of connections that have no session). */
  terminate(code: number, reason: string): void {
    this.phase = 'closed';
    this.downstream.close(code, reason);
  }

  /** Forcibly destroys the socket (shutdown grace period over). */
  destroy(): void {
    this.ws.terminate();
  }

  private wsOnMessage(data: RawData, isBinary: boolean): void {
    switch (this.phase) {
      case 'hello':
        return this.onHello(data, isBinary);
      case 'opening': {
        const max = this.host.options.limits.maxEarlyMessages;
        if (this.early.length >= max) return this.fail('out_of_order', `more than limits.maxEarlyMessages (${max}) messages before WELCOME`);
        (this.early as Message[]).push([data, isBinary]);
        return;
      }
      case 'open':
        return this.onFrame(data, isBinary);
      case 'closed':
        return;
    }
  }

  private onHello(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.fail('bad_frame', 'binary messages are not accepted: send one JSON frame per text message');
    // The frames a client sends right behind its HELLO may share its message (protocol.md §4):
    // one write on each side instead of one per frame, and their answers leave with the WELCOME.
    const text = textOf(data);
    const lines = text.indexOf('\n') === -1 ? [text] : splitBatch(text);
    const decoded = decodeClientFrame(lines[0] ?? '', this.host.options.limits);
    if (!decoded.ok) return this.fail(decoded.code, decoded.message);
    // A client may test that this socket carries traffic before moving its session onto it
    // (protocol.md §4). helloTimeoutMs still runs, so pinging cannot hold a socket open forever.
    const type = decoded.frame.type;
    if (type === 'ping' && lines.length === 1) return this.downstream.write(encodeFrame({ type: 'pong', n: decoded.frame.n }));
    if (type !== 'hello') return this.fail('bad_frame', lines.length > 1 ? `only HELLO may carry frames in its message, got ${type}` : `expected HELLO as the first frame, got ${type}`);
    if (lines.length - 1 > PIPELINED_FRAMES) return this.fail('bad_frame', `more than ${PIPELINED_FRAMES} frames behind HELLO in its message`);
    // maxEarlyMessages is at least PIPELINED_FRAMES (options.ts), so these always fit.
    for (let i = 1; i < lines.length; i++) (this.early as Message[]).push([lines[i]!, false]);
    this.phase = 'opening';
    this.helloAt = Date.now();
    const req = this.request!;
    this.request = null;
    const raw = req.headers;
    let headers: Headers | undefined;
    let cookies: Record<string, string> | undefined;
    handshake(this.host, decoded.frame, {
      // Built when authenticate() first reads them: converting every header costs more than the rest of a HELLO.
      get headers() {
        return (headers ??= headersFromNode(raw));
      },
      get cookies() {
        return (cookies ??= parseCookies(this.headers.get('cookie')));
      },
      transport: 'websocket',
      ip: req.socket.remoteAddress,
    }).then(
      (result) => this.opened(reopened(this.host, result)),
      (error: unknown) => {
        this.host.onError(error, 'handshake');
        this.fail('internal', 'internal error');
      },
    );
  }

  private opened(result: Awaited<ReturnType<typeof handshake<U>>>): void {
    if (this.phase !== 'opening') return; // closed meanwhile; a new session lives on until its TTL
    if (!result.ok) {
      this.phase = 'closed';
      if (this.downstream.open) this.ws.send(refusalFrame(result));
      this.downstream.close(result.close, result.message);
      return;
    }
    const session = result.session;
    this.session = session;
    this.phase = 'open';
    session.attach(this.downstream, result.ack, welcomeFrame(this.host.options, result, this.helloAt), Date.now());
    const early = this.early;
    this.early = NOTHING_EARLY;
    for (const [data, isBinary] of early) this.onFrame(data, isBinary);
  }

  /**
   * One message after WELCOME: a frame, or several separated by `\n` (WELCOME.batch, protocol.md
   * §4; JSON text never holds a raw line break). maxPayload already bounds the whole message; at
   * most maxBatchFrames frames, as in a POST body. They are applied in order; the first bad one
   * closes the socket, and what came before it stands.
   */
  private onFrame(data: RawData | string, isBinary: boolean): void {
    const session = this.session;
    if (!session || this.phase !== 'open') return;
    session.lastHeard = Date.now();
    if (isBinary) return this.fail('bad_frame', 'binary messages are not accepted: send JSON frames in text messages');
    const text = textOf(data);
    if (text.indexOf('\n') === -1) {
      this.apply(session, text);
      return;
    }
    const lines = splitBatch(text);
    const max = this.host.options.limits.maxBatchFrames;
    if (lines.length > max) return this.fail('bad_frame', `more than maxBatchFrames (${max}) frames in one message`);
    for (const line of lines) if (!this.apply(session, line)) return;
  }

  /** Decodes and applies one client frame; false (and the socket failed) if it was refused. */
  private apply(session: ServerSession<U>, text: string): boolean {
    const decoded = decodeClientFrame(text, this.host.options.limits);
    if (!decoded.ok) return (this.fail(decoded.code, decoded.message), false);
    const outcome = applyClientFrame(session, decoded.frame);
    if (!outcome.ok) return (this.fail(outcome.code, outcome.message), false);
    if (outcome.pong) this.downstream.write(outcome.pong);
    return true;
  }

  private wsOnClose(code: number): void {
    this.phase = 'closed';
    this.early = NOTHING_EARLY;
    const session = this.session;
    // 1000 from the client is a deliberate end (protocol.md §4), not a drop to resume from: end the
    // session now so presence and resources do not wait for the TTL. Only if this socket still
    // carries the session; an old one closed after a takeover changes nothing.
    if (session && code === CLIENT_CLOSED && session.attached === this.downstream) session.end('client_closed', 'the client closed the session');
    else session?.detach(this.downstream, Date.now());
    this.host.connectionClosed(this);
  }
}

/** The sockets corked in this tick, uncorked together at its end. */
let corkedSockets: WsDownstream[] = [];

function uncorkAll(): void {
  const list = corkedSockets;
  // A write while these uncork (a callback of a write that failed) corks into the next round.
  corkedSockets = [];
  for (const downstream of list) downstream.uncork();
}

/** A close reason within the 123 bytes RFC 6455 §5.5 allows (`ws` throws beyond that). */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let cut = text.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return cut + '...';
}

function textOf(data: RawData | string): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
