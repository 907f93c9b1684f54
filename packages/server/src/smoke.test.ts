/**
 * Real-socket smoke tests: a server from listen({ port: 0 }) on 127.0.0.1, spoken to with a raw
 * `ws` client and fetch, no wirehop client. Every test waits for frames, never for time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  decodeServerFrame,
  encodeFrame,
  PIPELINED_FRAMES,
  hello,
  type ClientFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '@wirehop/protocol';
import { rawSse as openSse } from '../../../test/helpers/raw.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { createWirehop } from './index.js';
import type { ListeningServer, ServerOptions, Wirehop } from './types.js';

let server: ListeningServer | undefined;
const sockets: WebSocket[] = [];
const aborts: Array<() => void> = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const abort of aborts.splice(0)) abort();
  await server?.close();
  server = undefined;
});

async function start(options: ServerOptions = {}): Promise<{ wh: Wirehop; url: string }> {
  const wh = createWirehop({ onError: () => undefined, ...options });
  wh.channel('news', { publish: true });
  server = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  return { wh, url: server.url };
}

/** A raw WebSocket that records decoded frames; next() waits for the next frame of a type. */
function rawWs(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', { headers });
  sockets.push(ws);
  const frames: ServerFrame[] = [];
  let consumed = 0;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  ws.on('message', (data) => {
    const decoded = decodeServerFrame(data.toString());
    if (decoded.ok) frames.push(decoded.frame);
    wake();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => (resolve(code), wake())));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })));
    ws.once('error', reject);
  });
  return {
    ws,
    frames,
    opened,
    closed,
    send: (frame: ClientFrame | string) => ws.send(typeof frame === 'string' ? frame : encodeFrame(frame)),
    next<T extends ServerFrame['type']>(type: T): Promise<Extract<ServerFrame, { type: T }>> {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = consumed; i < frames.length; i++) {
            if (frames[i]!.type === type) {
              consumed = i + 1;
              waiters.delete(check);
              return resolve(frames[i] as Extract<ServerFrame, { type: T }>);
            }
          }
          if (ws.readyState === WebSocket.CLOSED) {
            waiters.delete(check);
            reject(new Error(`closed before a ${type} frame; got ${JSON.stringify(frames)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

async function wsSession(url: string) {
  const raw = rawWs(url);
  await raw.opened;
  raw.send(hello());
  return { raw, welcome: await raw.next('welcome') };
}

/** GET /sse, parsed into frames and their `id:` fields (test/helpers/raw.ts), aborted after the test. */
async function rawSse(url: string, headers: Record<string, string>) {
  const sse = await openSse(url, headers);
  aborts.push(sse.abort);
  return { ...sse, until: (n: number) => waitFor(() => sse.frames.length >= n, { what: `${n} SSE frames` }) };
}

async function post(url: string, path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, { method: 'POST', body, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json: json as any };
}

async function sseHandshake(url: string): Promise<{ sid: string; token: string }> {
  const res = await post(url, '/session', encodeFrame(hello()), { 'content-type': 'application/json' });
  expect(res.status).toBe(200);
  const welcome = decodeServerFrame(res.text);
  if (!welcome.ok || welcome.frame.type !== 'welcome') throw new Error(`no welcome: ${res.text}`);
  return { sid: welcome.frame.sid, token: welcome.frame.token! };
}

describe('WebSocket', () => {
  it('hello → welcome → subscribe → publish → event', async () => {
    const { wh, url } = await start();
    const { raw, welcome } = await wsSession(url);
    expect(welcome).toMatchObject({ resumed: false, ack: 0, maxMessageBytes: 65536, batch: 1024, posts: 4 });
    expect(welcome.sid).toHaveLength(21);
    expect(welcome.token).toHaveLength(32);
    expect(wh.session(welcome.sid)?.transport).toBe('websocket');

    raw.send('[1,1,"news"]');
    const reply = await raw.next('reply');
    expect(reply).toMatchObject({ type: 'reply', seq: 1, re: 1, data: { presence: false, position: { offset: 0 } } });
    expect(await wh.publish('news', 'item', { n: 1 })).toEqual({ epoch: (reply as { data: { position: { epoch: string } } }).data.position.epoch, offset: 1 });
    expect(await raw.next('event')).toEqual({ type: 'event', seq: 2, channel: 'news', event: 'item', data: { n: 1 }, offset: 1 });

    raw.send('[3,2,"news","said",{"text":"hi"}]');
    expect(await raw.next('event')).toMatchObject({ seq: 3, event: 'said', data: { text: 'hi' } });
    expect(await raw.next('reply')).toMatchObject({ seq: 4, re: 2, data: null });
    raw.send('[21,7]');
    expect(await raw.next('pong')).toEqual({ type: 'pong', n: 7 });
  });

  it('resume after a dropped socket replays exactly the frames after the client ack', async () => {
    const { wh, url } = await start();
    const { raw, welcome } = await wsSession(url);
    raw.send('[1,1,"news"]');
    await raw.next('reply'); // seq 1
    for (let i = 0; i < 5; i++) wh.publish('news', 'item', i); // seq 2..6
    await raw.next('event');
    await raw.next('event'); // delivered up to seq 3
    raw.ws.terminate();
    await raw.closed;
    for (let i = 5; i < 7; i++) wh.publish('news', 'item', i); // seq 7..8, while away

    const again = rawWs(url);
    await again.opened;
    again.send(hello({ sid: welcome.sid, token: welcome.token!, ack: 3 }));
    expect(await again.next('welcome')).toMatchObject({ resumed: true, ack: 1, sid: welcome.sid });
    const replayed: unknown[] = [];
    for (let i = 0; i < 5; i++) replayed.push((await again.next('event')).data);
    expect(replayed).toEqual([2, 3, 4, 5, 6]);
    expect(again.frames.map((f) => ('seq' in f ? f.seq : f.type))).toEqual(['welcome', 4, 5, 6, 7, 8]);

    // The client resends its frame 1 (already processed) and sends 2: only 2 is answered.
    again.send('[1,1,"news"]');
    again.send('[2,2,"news"]');
    expect(await again.next('reply')).toMatchObject({ seq: 9, re: 2 });
  });

  it('a second socket takes the session over; the first is closed with 4001', async () => {
    const { url } = await start();
    const { raw, welcome } = await wsSession(url);
    const second = rawWs(url);
    await second.opened;
    second.send(hello({ sid: welcome.sid, token: welcome.token!, ack: 0 }));
    await second.next('welcome');
    expect(await raw.next('error')).toMatchObject({ code: 'superseded' });
    expect(await raw.closed).toBe(4001);
  });

  it('a wrong token gets 4401 and never attaches', async () => {
    const { wh, url } = await start();
    const { welcome } = await wsSession(url);
    const thief = rawWs(url);
    await thief.opened;
    thief.send(hello({ sid: welcome.sid, token: 'x'.repeat(32), ack: 0 }));
    expect(await thief.next('error')).toMatchObject({ code: 'unauthorized' });
    expect(await thief.closed).toBe(4401);
    expect(thief.frames.some((f) => f.type === 'welcome')).toBe(false);
    expect(wh.session(welcome.sid)?.transport).toBe('websocket');
  });

  it('an oversize message closes with 1009; the server keeps serving', async () => {
    const { url } = await start({ limits: { maxMessageBytes: 1024 } });
    const { raw } = await wsSession(url);
    raw.send(`[4,1,"n","${'x'.repeat(5000)}"]`);
    expect(await raw.closed).toBe(1009);
    const { welcome } = await wsSession(url);
    expect(welcome.resumed).toBe(false);
  });

  it('an Origin outside the allow-list is refused before the upgrade with 403', async () => {
    const { url } = await start({ origins: ['http://good.example'] });
    await expect(rawWs(url, { origin: 'http://evil.example' }).opened).rejects.toMatchObject({ status: 403 });
    const ok = rawWs(url, { origin: 'http://good.example' });
    await ok.opened;
  });

  it('client close 1000 ends the session at once', async () => {
    const { wh, url } = await start();
    const closed = new Promise<{ code: string }>((resolve) => wh.on('close', (_s, reason) => resolve(reason)));
    const { raw, welcome } = await wsSession(url);
    raw.ws.close(1000);
    expect((await closed).code).toBe('client_closed');
    expect(wh.session(welcome.sid)).toBeUndefined();
  });
});

describe('SSE + POST', () => {
  it('handshake, stream with retry/headers/ids, POST answered with ack and pong', async () => {
    const { wh, url } = await start();
    const { sid, token } = await sseHandshake(url);
    const sent = await post(url, '/send', '[1,1,"news"]\n[21,9]\n', { 'x-wirehop-session': sid, 'x-wirehop-token': token });
    expect(sent).toMatchObject({ status: 200, text: '[20,1]\n[22,9]\n' });
    wh.publish('news', 'item', 'a');

    const sse = await rawSse(url, { 'x-wirehop-session': sid, 'x-wirehop-token': token });
    expect(sse.response.status).toBe(200);
    expect(sse.response.headers.get('content-type')).toBe('text/event-stream');
    expect(sse.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(sse.response.headers.get('x-accel-buffering')).toBe('no');
    await sse.until(3);
    expect(sse.frames.map((f) => f.type)).toEqual(['welcome', 'reply', 'event']);
    expect(sse.ids).toEqual(['0', '1', '2']);
    expect(wh.session(sid)?.transport).toBe('sse');

    wh.publish('news', 'item', 'b');
    await sse.until(4);
    expect(sse.frames[3]).toMatchObject({ type: 'event', seq: 3, data: 'b' });
    expect(sse.ids[3]).toBe('3');
  });

  it('resumes from Last-Event-ID, replaying only what came after it', async () => {
    const { wh, url } = await start();
    const { sid, token } = await sseHandshake(url);
    await post(url, '/send', '[1,1,"news"]\n', { 'x-wirehop-session': sid, 'x-wirehop-token': token });
    for (const v of ['a', 'b', 'c']) wh.publish('news', 'item', v); // seq 2..4
    const sse = await rawSse(url, { 'x-wirehop-session': sid, 'x-wirehop-token': token, 'last-event-id': '2' });
    await sse.until(3);
    expect(sse.frames.slice(1).map((f) => (f.type === 'event' ? f.data : f.type))).toEqual(['b', 'c']);
    expect((sse.frames[0] as WelcomeFrame).token).toBeUndefined();
  });

  it('wrong token → 401, unknown session → 404, both as JSON', async () => {
    const { url } = await start();
    const { sid } = await sseHandshake(url);
    const wrong = await post(url, '/send', '[20,0]\n', { 'x-wirehop-session': sid, 'x-wirehop-token': 'n'.repeat(32) });
    expect(wrong).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    const sse = await rawSse(url, { 'x-wirehop-session': sid, 'x-wirehop-token': 'n'.repeat(32) });
    expect(sse.response.status).toBe(401);
    const unknown = await post(url, '/send', '[20,0]\n', { 'x-wirehop-session': 'nope'.repeat(6), 'x-wirehop-token': 'n'.repeat(32) });
    expect(unknown).toMatchObject({ status: 404, json: { error: { code: 'session_unknown' } } });
  });

  it('oversize POST bodies and lines → 413; frames before a bad line are processed', async () => {
    const { wh, url } = await start({ limits: { maxMessageBytes: 1024, maxBatchBytes: 8 * 1024, postWaitMs: 100 } });
    const got: unknown[] = [];
    wh.onMessage('n', (d) => void got.push(d));
    const { sid, token } = await sseHandshake(url);
    const headers = { 'x-wirehop-session': sid, 'x-wirehop-token': token };
    const line = await post(url, '/send', `[4,1,"n","${'x'.repeat(2000)}"]\n`, headers);
    expect(line).toMatchObject({ status: 413, json: { error: { code: 'message_too_large', ack: 0 } } });
    const body = Array.from({ length: 20 }, (_, i) => `[4,${i + 1},"n","${'x'.repeat(500)}"]`).join('\n');
    expect(await post(url, '/send', body, headers)).toMatchObject({ status: 413, json: { error: { code: 'body_too_large' } } });
    const bad = await post(url, '/send', '[4,1,"n",1]\n[4,2,"n",2]\n{oops\n[4,3,"n",3]\n', headers);
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'bad_frame', ack: 2 } } });
    expect(got).toEqual([1, 2]);
    const gap = await post(url, '/send', '[4,5,"n",5]\n', headers);
    expect(gap).toMatchObject({ status: 409, json: { error: { code: 'out_of_order', ack: 2 } } });
    expect(gap.json.error.message).toContain('did not arrive within postWaitMs (100 ms)');
  });

  it('Origin outside the allow-list → 403; allowed origins get CORS answers', async () => {
    const { url } = await start({ origins: ['http://good.example'] });
    const bad = await post(url, '/session', encodeFrame(hello()), { origin: 'http://evil.example' });
    expect(bad).toMatchObject({ status: 403, json: { error: { code: 'forbidden_origin' } } });
    const good = await fetch(url + '/session', { method: 'POST', body: encodeFrame(hello()), headers: { origin: 'http://good.example' } });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe('http://good.example');
    expect(good.headers.get('access-control-allow-credentials')).toBe('true');
    const preflight = await fetch(url + '/send', {
      method: 'OPTIONS',
      headers: { origin: 'http://good.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-wirehop-token' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('x-wirehop-token');
  });

  it('GET /ping answers 204', async () => {
    const { url } = await start();
    expect((await fetch(url + '/ping')).status).toBe(204);
  });
});

describe('WebSocket: frames right behind HELLO (protocol.md §4)', () => {
  const slowAuth = { authenticate: () => new Promise<{ id: string }>((r) => setTimeout(() => r({ id: 'u' }), 50)) };

  it('are held while authenticate() runs, then applied in order once the session is attached', async () => {
    const { url } = await start(slowAuth);
    const raw = rawWs(url);
    await raw.opened;
    raw.send(hello());
    raw.send('[1,1,"news"]');
    raw.send('[3,2,"news","e","first"]');
    const welcome = await raw.next('welcome');
    expect(welcome.ack).toBe(0);
    const event = await raw.next('event');
    expect(event).toMatchObject({ channel: 'news', event: 'e', data: 'first' });
    expect(raw.frames.map((f) => f.type)).toEqual(['welcome', 'reply', 'event', 'reply']);
  });

  it('more than 1,024 messages of them is out_of_order, and other sessions are untouched', async () => {
    const { url } = await start(slowAuth);
    const other = await wsSession(url);
    const raw = rawWs(url);
    await raw.opened;
    raw.send(hello());
    for (let i = 0; i < 1025; i++) raw.send({ type: 'ping', n: i });
    expect(await raw.closed).toBe(4409);
    expect(raw.frames.at(-1)).toMatchObject({ type: 'error', code: 'out_of_order' });
    other.raw.send({ type: 'ping', n: 7 });
    await expect(other.raw.next('pong')).resolves.toMatchObject({ n: 7 });
  });

  it('limits.maxEarlyMessages sets how many: up to it they are applied, one more is out_of_order', async () => {
    const { url } = await start({ ...slowAuth, limits: { maxEarlyMessages: PIPELINED_FRAMES } });
    const within = rawWs(url);
    await within.opened;
    within.send(hello());
    for (let n = 1; n <= PIPELINED_FRAMES; n++) within.send({ type: 'ping', n });
    await within.next('welcome');
    for (let n = 1; n <= PIPELINED_FRAMES; n++) await expect(within.next('pong')).resolves.toMatchObject({ n });
    const over = rawWs(url);
    await over.opened;
    over.send(hello());
    for (let n = 1; n <= PIPELINED_FRAMES + 1; n++) over.send({ type: 'ping', n });
    expect(await over.closed).toBe(4409);
    expect(over.frames.at(-1)).toMatchObject({ type: 'error', code: 'out_of_order', message: expect.stringContaining(`maxEarlyMessages (${PIPELINED_FRAMES})`) });
  });
});

describe('WELCOME.held: how long the server held the HELLO (protocol.md §5, "Probe")', () => {
  it('covers a slow authenticate() on WebSocket and POST /session, and is small for a resume', async () => {
    const { url } = await start({ authenticate: () => new Promise((r) => setTimeout(() => r({ id: 'u' }), 60)) });
    const { welcome } = await wsSession(url);
    expect(welcome.held).toBeGreaterThanOrEqual(59); // whole milliseconds on both ends
    const res = await post(url, '/session', encodeFrame(hello()), { 'content-type': 'application/json' });
    const created = decodeServerFrame(res.text);
    expect(created).toMatchObject({ ok: true, frame: { type: 'welcome' } });
    const { sid, token, held } = (created as { frame: WelcomeFrame }).frame;
    expect(held).toBeGreaterThanOrEqual(59);
    const sse = await rawSse(url, { 'x-wirehop-session': sid, 'x-wirehop-token': token! });
    await sse.until(1);
    expect((sse.frames[0] as WelcomeFrame).held).toBeLessThan(59); // no authenticate() on a resume
  });
});

describe('SSE + POST: frames behind the HELLO of POST /session (protocol.md §5)', () => {
  const ndjson = { 'content-type': 'application/x-ndjson' };
  const welcomeOf = (text: string) => {
    const decoded = decodeServerFrame(text);
    if (!decoded.ok || decoded.frame.type !== 'welcome') throw new Error(`no welcome: ${text}`);
    return decoded.frame;
  };

  it('are applied as the session is created; their replies wait for GET /sse', async () => {
    const { wh, url } = await start();
    let authorized = 0;
    wh.channel('room', {
      publish: true,
      authorize: () => {
        authorized++;
        return true;
      },
    });
    const res = await post(url, '/session', `${encodeFrame(hello())}\n[1,1,"room"]\n[3,2,"room","e","first"]\n`, ndjson);
    expect(res.status).toBe(200);
    const { sid, token } = welcomeOf(res.text);
    // Applied with no stream and no POST /send: the subscription is authorized before GET /sse.
    await waitFor(() => authorized === 1, { what: 'the subscribe authorized' });
    const sse = await rawSse(url, { 'x-wirehop-session': sid, 'x-wirehop-token': token! });
    await sse.until(4);
    expect(sse.frames[0]).toMatchObject({ type: 'welcome', ack: 2 });
    // In order: the publish came after the subscribe, so the session gets its own publication.
    expect(sse.frames.slice(1).map((f) => (f.type === 'reply' ? f.re : f.type === 'event' ? f.data : f.type))).toEqual([1, 'first', 2]);
    wh.publish('room', 'e', 'later');
    await sse.until(5);
    expect(sse.frames[4]).toMatchObject({ type: 'event', channel: 'room', data: 'later' });
  });

  it('a bad one stops them there; the session is created, and WELCOME.ack says what was applied', async () => {
    const { url } = await start();
    const res = await post(url, '/session', `${encodeFrame(hello())}\n[1,1,"news"]\nnot json\n[3,2,"news","e","lost"]\n`, ndjson);
    expect(res.status).toBe(200);
    const { sid, token } = welcomeOf(res.text);
    const sse = await rawSse(url, { 'x-wirehop-session': sid, 'x-wirehop-token': token! });
    await sse.until(2);
    expect(sse.frames[0]).toMatchObject({ type: 'welcome', ack: 1 });
    expect(sse.frames[1]).toMatchObject({ type: 'reply', re: 1 });
  });

  it('the body may be as large as a POST /send; the HELLO line alone is held to maxMessageBytes', async () => {
    const { url } = await start({ limits: { maxMessageBytes: 200, maxBatchBytes: 1000 } });
    const frames = Array.from({ length: 5 }, (_, i) => encodeFrame({ type: 'publish', seq: i + 1, channel: 'news', event: 'e', data: 'x'.repeat(100) }));
    const fits = await post(url, '/session', [encodeFrame(hello()), ...frames].join('\n'), ndjson);
    expect(fits.status).toBe(200);
    const big = await post(url, '/session', [encodeFrame(hello()), ...frames, ...frames, ...frames].join('\n'), ndjson);
    expect(big).toMatchObject({ status: 413, json: { error: { code: 'body_too_large' } } });
    const longHello = encodeFrame({ type: 'hello', v: 1, auth: 'a'.repeat(300) });
    const tooLong = await post(url, '/session', `${longHello}\n${frames[0]}`, ndjson);
    expect(tooLong).toMatchObject({ status: 413, json: { error: { code: 'message_too_large' } } });
    // A HELLO as one JSON value over several lines, too: within the body's limit, over the frame's.
    const pretty = JSON.stringify([24, { v: 1, auth: 'a'.repeat(300) }], null, 2);
    const prettyTooLong = await post(url, '/session', pretty, { 'content-type': 'application/json' });
    expect(prettyTooLong).toMatchObject({ status: 413, json: { error: { code: 'message_too_large' } } });
    const prettyFits = await post(url, '/session', JSON.stringify([24, { v: 1 }], null, 2), { 'content-type': 'application/json' });
    expect(prettyFits.status).toBe(200);
  });
});

describe('SSE + POST: several bodies in flight (protocol.md §5)', () => {
  async function session(options: ServerOptions = {}) {
    const { wh, url } = await start(options);
    const got: unknown[] = [];
    wh.onMessage('n', (d) => void got.push(d));
    const { sid, token } = await sseHandshake(url);
    const send = (body: string) => post(url, '/send', body, { 'x-wirehop-session': sid, 'x-wirehop-token': token });
    return { wh, sid, got, send };
  }
  const pendingAfter = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('pending'), ms))]);

  it('a body that overtook an earlier one waits for it, then both apply in order', async () => {
    const { got, send } = await session();
    const later = send('[4,2,"n",2]\n[4,3,"n",3]\n');
    expect(await pendingAfter(later, 100)).toBe('pending');
    expect(got).toEqual([]);
    expect(await send('[4,1,"n",1]\n')).toMatchObject({ status: 200 });
    expect(await later).toMatchObject({ status: 200, text: '[20,3]\n' });
    expect(got).toEqual([1, 2, 3]);
  });

  it('one body more than postsInFlight allows is refused at once with out_of_order; the waiting one still applies', async () => {
    const { got, send } = await session({ limits: { postsInFlight: 2 } });
    const waiting = send('[4,3,"n",3]\n');
    expect(await pendingAfter(waiting, 100)).toBe('pending');
    const refused = await send('[4,4,"n",4]\n');
    expect(refused).toMatchObject({ status: 409, json: { error: { code: 'out_of_order', ack: 0 } } });
    expect(refused.json.error.message).toContain('more than 2 POST bodies of this session at once');
    expect(await send('[4,1,"n",1]\n[4,2,"n",2]\n')).toMatchObject({ status: 200 });
    expect(await waiting).toMatchObject({ status: 200, text: '[20,3]\n' });
    expect(got).toEqual([1, 2, 3]);
  });

  it('postsInFlight 1: an early body is refused at once, as before', async () => {
    const { wh, got, send } = await session({ limits: { postsInFlight: 1 } });
    expect(await send('[4,2,"n",2]\n')).toMatchObject({ status: 409, json: { error: { code: 'out_of_order', ack: 0 } } });
    expect(got).toEqual([]);
    expect(wh.sessionCount).toBe(1);
  });

  it('a waiting body whose session ends meanwhile gets the session\'s end, with the ack', async () => {
    const { wh, sid, got, send } = await session();
    expect(await send('[4,1,"n",1]\n')).toMatchObject({ status: 200 });
    const waiting = send('[4,3,"n",3]\n');
    expect(await pendingAfter(waiting, 100)).toBe('pending');
    wh.session(sid)!.close('done here');
    expect(await waiting).toMatchObject({ status: 410, json: { error: { code: 'session_closed', ack: 1 } } });
    expect(got).toEqual([1]);
  });
});
