/**
 * WebSocket transport: `GET {path}/ws`, HELLO as the first message, one frame per text message,
 * or once WELCOME says `batch` the frames of one task per message (protocol.md §4). The
 * constructor is injected (browser global, `ws` in Node), never imported.
 */
import { ErrorCodes, Paths, WirehopError, codeForClose, decodeServerFrame, encodeClientControl, isErrorCode } from '@wirehop/protocol';
import type { WebSocketLike } from '../types.js';
import { asWirehopError, type TransportFactory } from './transport.js';

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
function closeError(code: number, reason: string): WirehopError {
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
  socket.onopen = () => {
    if (done) return;
    if (options.hello) socket.send(encodeClientControl(options.hello));
    else handlers.open?.();
  };
  socket.onmessage = ({ data }: { data: unknown }) => {
    if (done) return;
    handlers.alive();
    if (typeof data !== 'string') return fail(new WirehopError('bad_frame', 'binary WebSocket message'));
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) return fail(new WirehopError(decoded.code, decoded.message));
    const frame = decoded.frame;
    // The server takes several frames per message: how many fit is its maxMessageBytes.
    if (frame.type === 'welcome' && frame.batch) batchChars = Math.floor(frame.maxMessageBytes / 3);
    handlers.frame(frame);
  };
  socket.onclose = ({ code, reason }: { code: number; reason: string }) => fail(closeError(code, reason));
  // An error event is always followed by close, which carries the code; `ws` needs a listener anyway.
  socket.onerror = () => {};
  /**
   * Frames sent in one task leave in one message where the server takes batches (WELCOME.batch):
   * a message costs a write on each side, a frame in it only its bytes. The bound is in UTF-16
   * units, a third of the server's maxMessageBytes, so that any text fits in UTF-8; a frame longer
   * than that goes alone (the client checked it against maxMessageBytes already). 0: one per message.
   */
  let batchChars = 0;
  let pending: string[] = [];
  const flush = () => {
    const frames = pending;
    pending = [];
    if (done || socket.readyState !== OPEN) return;
    let message = '';
    for (const frame of frames) {
      if (message && message.length + 1 + frame.length > batchChars) {
        socket.send(message);
        message = '';
      }
      message = message ? message + '\n' + frame : frame;
    }
    if (message) socket.send(message);
  };
  return {
    send(frames) {
      if (done || socket.readyState !== OPEN) return;
      if (batchChars === 0) for (const frame of frames) socket.send(frame);
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
