/**
 * WebSocket transport: `GET {path}/ws`, HELLO as the first message with the frames sent right
 * behind it, then one frame per text message, or once WELCOME says `batch` the frames of one task
 * in as few messages as it allows (protocol.md §4). The
 * constructor is injected (browser global, `ws` in Node), never imported.
 */
import { ErrorCodes, Paths, WirehopError, codeForClose, decodeServerFrame, encodeClientControl, isErrorCode } from '@wirehop/protocol';
import type { WebSocketLike } from '../types.js';
import { asWirehopError, takeBatch, type TransportFactory } from './transport.js';

const OPEN = 1;

/**
 * The close code for dropping a socket while the session goes on: 1000 would end the session
 * (protocol.md §4), so use the error's own code (4000–4999), or transport_failed's.
 */
function dropCode({ code }: WirehopError): number {
  const info = isErrorCode(code) ? ErrorCodes[code] : undefined;
  return info && info.close >= 4000 && info.close < 5000 && !info.endsSession ? info.close : ErrorCodes.transport_failed.close;
}

/** Close codes 4000–4999 are wirehop's (protocol.md §9); anything else is a plain network failure. */
function closeError(code: number, reason?: string): WirehopError {
  const known = code >= 4000 ? codeForClose(code) : undefined;
  return known ? new WirehopError(known, reason || undefined, { close: code }) : new WirehopError('transport_failed', `WebSocket closed (${code}${reason ? ': ' + reason : ''})`, { close: code });
}

/** Opens a WebSocket transport; HELLO goes as soon as the socket opens (or `handlers.open` runs, without one). */
export const websocket: TransportFactory = (options, handlers) => {
  let done = false;
  let ws: WebSocketLike | undefined;
  const shut = (code: number) => {
    try {
      ws?.close(code);
    } catch {
      // already closing
    }
  };
  const fail = (error: WirehopError) => {
    if (done) return;
    done = true;
    shut(dropCode(error));
    handlers.close(error);
  };
  try {
    const WS = options.WebSocket as (new (url: string, init?: object) => WebSocketLike) | undefined;
    if (!WS) throw new WirehopError('transport_failed', 'No WebSocket implementation here: pass `WebSocket` in the client options (e.g. from the "ws" package), import the Node entry, or use transports: ["sse"]');
    const url = options.url.replace(/^http/i, 'ws') + Paths.websocket;
    // Only `ws`-style constructors take headers; browsers throw, and we fall back to the next transport.
    ws = Object.keys(options.headers).length ? new WS(url, { headers: options.headers }) : new WS(url);
  } catch (error) {
    // Fail asynchronously: the caller gets the transport object before any handler runs.
    queueMicrotask(() => fail(asWirehopError(error)));
    return { send() {}, close: () => void (done = true) };
  }
  const socket = ws;
  /**
   * While HELLO is being sent: it and the frames the client sends right behind it, which share its
   * message as far as maxMessageBytes allows (protocol.md §4). One write on each side, not one per
   * frame, and the server answers them with the WELCOME.
   */
  let greeting: string[] | undefined;
  /** Frames went behind the HELLO, and nothing has answered it yet. */
  let carried = false;
  socket.onopen = () => {
    if (done) return;
    if (!options.hello) return handlers.open?.();
    const frames = (greeting = [encodeClientControl(options.hello)]);
    handlers.open?.();
    greeting = undefined;
    if (done) return;
    carried = frames.length > 1;
    socket.send(takeBatch(frames, Infinity, options.maxMessageBytes).join('\n'));
    for (const frame of frames) socket.send(frame);
  };
  socket.onmessage = ({ data }: { data: unknown }) => {
    if (done) return;
    handlers.alive();
    if (typeof data !== 'string') return fail(new WirehopError('bad_frame', 'binary WebSocket message'));
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) return fail(new WirehopError(decoded.code, decoded.message));
    const frame = decoded.frame;
    // The first frame answers the HELLO: a refusal refuses what its message carried too (protocol.md §4).
    if (carried) {
      carried = false;
      if (frame.type === 'error' || frame.type === 'bye') handlers.unsent?.();
    }
    // The server takes several frames per message: as many as its WELCOME says, in maxMessageBytes.
    if (frame.type === 'welcome' && frame.batch) batch = { frames: frame.batch, bytes: frame.maxMessageBytes };
    handlers.frame(frame, data.length);
  };
  /** What the error event said (`ws` says why: a refused certificate, a reset; browsers never do). */
  let why: string | undefined;
  socket.onclose = ({ code, reason }: { code: number; reason: string }) => fail(closeError(code, reason || why));
  // An error event is always followed by close, which carries the code.
  socket.onerror = (event: { message?: string }) => void (why = event?.message);
  /**
   * Frames sent in one task leave in as few messages as WELCOME.batch allows: a message costs a
   * write on each side, a frame in it only its bytes. Undefined: one frame per message.
   */
  let batch: { frames: number; bytes: number } | undefined;
  let pending: string[] = [];
  const flush = () => {
    const frames = pending;
    pending = [];
    if (done || socket.readyState !== OPEN || !batch) return;
    while (frames.length > 0) {
      const some = takeBatch(frames, batch.frames, batch.bytes);
      socket.send(some.length === 1 ? some[0]! : some.join('\n'));
    }
  };
  return {
    send(frames) {
      if (greeting) return void greeting.push(...frames);
      if (done || socket.readyState !== OPEN) return;
      if (!batch) for (const frame of frames) socket.send(frame);
      else {
        if (pending.length === 0) queueMicrotask(flush);
        for (const frame of frames) pending.push(frame);
      }
    },
    close(error) {
      if (done) return;
      done = true;
      shut(error ? dropCode(error) : 1000);
    },
  };
};
