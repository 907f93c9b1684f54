/**
 * Black-box protocol clients: raw `ws` and `fetch`, no wirehop client. They speak the wire format of
 * docs/protocol.md directly, so the server is tested against the spec rather than against our own
 * client's habits.
 */
import WebSocket from 'ws';
import { createSseFrameParser, decodeServerFrame, encodeFrame, type ClientFrame, type ServerFrame } from '@wirehop/protocol';

export interface RawWs {
  ws: WebSocket;
  /** Frames received so far, in order. */
  frames: ServerFrame[];
  /** Raw messages that did not decode (should stay empty). */
  garbage: string[];
  send(frame: ClientFrame | string): void;
  /** Resolves with the next frame matching the predicate (including ones already received). */
  next<T extends ServerFrame['type']>(type: T, timeoutMs?: number): Promise<Extract<ServerFrame, { type: T }>>;
  closed: Promise<{ code: number; reason: string }>;
}

export function rawWs(httpUrl: string, options: WebSocket.ClientOptions = {}): Promise<RawWs> {
  const ws = new WebSocket(httpUrl.replace(/^http/, 'ws') + '/ws', options);
  const frames: ServerFrame[] = [];
  const garbage: string[] = [];
  let consumed = 0;
  const waiters = new Set<() => void>();
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    const decoded = decodeServerFrame(text);
    if (decoded.ok) frames.push(decoded.frame);
    else garbage.push(text);
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const w of [...waiters]) w();
    }),
  );
  const raw: RawWs = {
    ws,
    frames,
    garbage,
    send(frame) {
      ws.send(typeof frame === 'string' ? frame : encodeFrame(frame));
    },
    next(type, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(consumed))}`));
        }, timeoutMs);
        const check = () => {
          for (let i = consumed; i < frames.length; i++) {
            const f = frames[i]!;
            if (f.type === type) {
              consumed = i + 1;
              clearTimeout(timer);
              waiters.delete(check);
              resolve(f as never);
              return;
            }
          }
          if (ws.readyState === WebSocket.CLOSED) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`socket closed before a ${type} frame`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    closed,
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(raw));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

export interface RawSse {
  frames: ServerFrame[];
  /** Parse errors (should stay empty). */
  errors: Error[];
  ids: Array<string | undefined>;
  response: Response;
  /** Resolves when the stream ends. */
  ended: Promise<void>;
  abort(): void;
}

/** Opens `GET {url}/sse` with the given headers and parses frames until aborted or ended. */
export async function rawSse(httpUrl: string, headers: Record<string, string>): Promise<RawSse> {
  const controller = new AbortController();
  const response = await fetch(httpUrl + '/sse', { headers, signal: controller.signal });
  const frames: ServerFrame[] = [];
  const ids: Array<string | undefined> = [];
  const errors: Error[] = [];
  const parser = createSseFrameParser({
    onFrame: (frame, id) => {
      frames.push(frame);
      ids.push(id);
    },
    onError: (err) => errors.push(err),
  });
  const ended = response.ok ? readText(response, (text) => parser.feed(text)) : Promise.resolve();
  return { frames, errors, ids, response, ended, abort: () => controller.abort() };
}

/** Reads a streamed body as text until it ends, is aborted or is cut; `onText` gets each chunk. */
export async function readText(response: Response, onText: (text: string) => void): Promise<void> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onText(decoder.decode(value, { stream: true }));
    }
  } catch {
    // aborted, or cut by the server
  }
}

/** POSTs a HELLO to `{url}/session` and returns the parsed answer. */
export async function rawHandshake(httpUrl: string, body: unknown = [24, { v: 1 }], headers: Record<string, string> = {}) {
  const res = await fetch(httpUrl + '/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: safeJson(text) };
}

/** POSTs an NDJSON body to `{url}/send`. */
export async function rawSend(httpUrl: string, sid: string, token: string, body: string, extra: Record<string, string> = {}) {
  const res = await fetch(httpUrl + '/send', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'x-wirehop-session': sid, 'x-wirehop-token': token, ...extra },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, json: safeJson(text) };
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
