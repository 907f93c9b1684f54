/**
 * Bad input gets a clear error and loses nothing else. Black-box: raw `ws` and `fetch` speaking the
 * wire format of docs/protocol.md, while a well-behaved wirehop client next to them keeps working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createClient, type WirehopClient } from '@wirehop/client';
import { hello, type WelcomeFrame } from '@wirehop/protocol';
import type { ServerOptions } from '@wirehop/server';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { rawHandshake, rawSend, rawSse, rawWs } from './helpers/raw.js';
import { nextEvent, waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** A server plus a bystander client on another session, which must be unaffected by anything. */
async function setup(options: ServerOptions = {}) {
  fx = await startFixture(options);
  fx.wh.channel('news');
  const echoes: unknown[] = [];
  fx.wh.onRequest('echo', (d) => {
    echoes.push(d);
    return d;
  });
  const bystander = fx.client({ transports: ['websocket'] });
  await bystander.connect();
  await bystander.channel('news').subscribe();
  return { fx, bystander };
}

async function stillHealthy(bystander: WirehopClient) {
  const got = nextEvent<[unknown]>((l) => bystander.channel('news').on('item', l));
  fx!.wh.publish('news', 'item', 'still here');
  expect(await got).toEqual(['still here']);
  await expect(bystander.request('echo', 42)).resolves.toBe(42);
  expect(bystander.stats.reconnects).toBe(0);
}

async function wsSession(url: string) {
  const raw = await rawWs(url);
  raw.send(hello());
  const welcome = await raw.next('welcome');
  return { raw, welcome };
}

describe('WebSocket input', () => {
  it('malformed JSON → error frame bad_frame, close 4400', async () => {
    const { bystander } = await setup();
    const { raw } = await wsSession(fx!.url);
    raw.send('{not json');
    expect(await raw.next('error')).toMatchObject({ code: 'bad_frame' });
    expect((await raw.closed).code).toBe(4400);
    await stillHealthy(bystander);
  });

  it('unknown frame type → unknown_frame, close 4400', async () => {
    const { bystander } = await setup();
    const { raw } = await wsSession(fx!.url);
    raw.send('[99,1,"x"]');
    expect(await raw.next('error')).toMatchObject({ code: 'unknown_frame' });
    expect((await raw.closed).code).toBe(4400);
    await stillHealthy(bystander);
  });

  it('PING before HELLO is answered, so a client can test a socket before using it', async () => {
    const { bystander } = await setup();
    const raw = await rawWs(fx!.url);
    raw.send('[21,123]');
    expect(await raw.next('pong')).toEqual({ type: 'pong', n: 123 });
    raw.send(hello());
    await raw.next('welcome');
    await stillHealthy(bystander);
  });

  it('a frame before HELLO, and a binary message, are refused', async () => {
    const { bystander } = await setup();
    const early = await rawWs(fx!.url);
    early.send('[1,1,"news"]');
    expect(await early.next('error')).toMatchObject({ code: 'bad_frame' });
    expect((await early.closed).code).toBe(4400);

    const { raw } = await wsSession(fx!.url);
    raw.ws.send(Buffer.from([1, 2, 3]));
    expect(await raw.next('error')).toMatchObject({ code: 'bad_frame' });
    expect((await raw.closed).code).toBe(4400);
    await stillHealthy(bystander);
  });

  it('an oversize message is refused before it is buffered (1009)', async () => {
    const { bystander } = await setup({ limits: { maxMessageBytes: 1024 } });
    const { raw } = await wsSession(fx!.url);
    raw.send(`[4,1,"n","${'x'.repeat(5000)}"]`);
    expect((await raw.closed).code).toBe(1009);
    await stillHealthy(bystander);
  });

  it('no HELLO in time → hello_timeout, close 4408', async () => {
    const { bystander } = await setup({ helloTimeoutMs: 100 });
    const raw = await rawWs(fx!.url);
    expect(await raw.next('error')).toMatchObject({ code: 'hello_timeout' });
    expect((await raw.closed).code).toBe(4408);
    await stillHealthy(bystander);
  });

  it('a skipped client sequence number → out_of_order, close 4409', async () => {
    const { bystander } = await setup();
    const { raw } = await wsSession(fx!.url);
    raw.send('[5,2,"echo","skipped one"]');
    expect(await raw.next('error')).toMatchObject({ code: 'out_of_order' });
    expect((await raw.closed).code).toBe(4409);
    await stillHealthy(bystander);
  });

  it('resume with a wrong token → 4401 and never attaches; the real session is untouched', async () => {
    const { bystander } = await setup();
    const sid = bystander.sessionId!;
    const thief = await rawWs(fx!.url);
    thief.send(hello({ sid, token: 'x'.repeat(32), ack: 0 }));
    expect(await thief.next('error')).toMatchObject({ code: 'unauthorized' });
    expect((await thief.closed).code).toBe(4401);
    expect(thief.frames.some((f) => f.type === 'welcome')).toBe(false);
    await stillHealthy(bystander);
    expect(bystander.sessionId).toBe(sid);
  });

  it('resume of an unknown session → bye session_unknown, close 4404', async () => {
    await setup();
    const raw = await rawWs(fx!.url);
    raw.send(hello({ sid: 'no-such-session-xxxxx', token: 'y'.repeat(32), ack: 0 }));
    expect(await raw.next('bye')).toMatchObject({ code: 'session_unknown' });
    expect((await raw.closed).code).toBe(4404);
  });

  it('resume claiming frames never sent → bad_ack', async () => {
    await setup();
    const { raw, welcome } = await wsSession(fx!.url);
    raw.ws.close();
    await raw.closed;
    const again = await rawWs(fx!.url);
    again.send(hello({ sid: welcome.sid, token: welcome.token!, ack: 1000 }));
    expect(await again.next('error')).toMatchObject({ code: 'bad_ack' });
    expect((await again.closed).code).toBe(4400);
  });

  it('an Origin outside the allow-list is refused before the upgrade (403)', async () => {
    const { bystander } = await setup({ origins: ['http://good.example'] });
    await expect(rawWs(fx!.url, { headers: { origin: 'http://evil.example' } })).rejects.toMatchObject({ status: 403 });
    const ok = await rawWs(fx!.url, { headers: { origin: 'http://good.example' } });
    ok.send(hello());
    await ok.next('welcome');
    await stillHealthy(bystander);
  });

  it('one frame past limits.maxPendingFrames behind a pending hook → out_of_order, close 4409; the others stand', async () => {
    const { bystander } = await setup({ limits: { maxPendingFrames: 64 } });
    let release!: (ok: boolean) => void;
    fx!.wh.channel('slow', { authorize: () => new Promise<boolean>((resolve) => (release = resolve)) });
    const notes: number[] = [];
    fx!.wh.onMessage('note', (n) => void notes.push(n as number));
    const { raw, welcome } = await wsSession(fx!.url);
    raw.send('[1,1,"slow"]'); // dispatched; its hook holds the frames after it
    for (let seq = 2; seq <= 66; seq++) raw.send(`[4,${seq},"note",${seq}]`); // 2..65 wait; 66 is one too many
    const error = await raw.next('error');
    expect(error).toMatchObject({ code: 'out_of_order', message: expect.stringContaining('limits.maxPendingFrames') });
    expect((await raw.closed).code).toBe(4409);
    release(true);
    // The session goes on: a resume learns that everything up to 65 was processed, and resends 66.
    await waitFor(() => notes.length === 64, { what: 'the frames that waited' });
    const again = await rawWs(fx!.url);
    again.send(hello({ sid: welcome.sid, token: welcome.token!, ack: 0 }));
    expect(await again.next('welcome')).toMatchObject({ resumed: true, ack: 65 });
    again.send('[4,66,"note",66]');
    await waitFor(() => notes.length === 65, { what: 'the resent frame' });
    expect(notes).toEqual(Array.from({ length: 65 }, (_, i) => i + 2));
    again.ws.close();
    await stillHealthy(bystander);
  });

  it('a reader that stops reading is cut off with replay_overflow and its memory freed', async () => {
    const { bystander } = await setup({ limits: { replayBufferBytes: 256 * 1024, highWaterMarkBytes: 16 * 1024 } });
    const { raw, welcome } = await wsSession(fx!.url);
    raw.send('[1,1,"news"]');
    await raw.next('reply');
    // Stop reading: the kernel buffers fill, the server's socket buffer passes the high-water mark.
    (raw.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const payload = 'x'.repeat(1000);
    let published = 0;
    await waitFor(
      () => {
        for (let i = 0; i < 50; i++) fx!.wh.publish('news', 'item', payload), published++;
        return !fx!.wh.session(welcome.sid);
      },
      { what: 'the slow session to be dropped' },
    );
    // Bounded: the session was dropped after at most a replay buffer's worth plus what the
    // socket buffers held, not after everything published.
    expect(published).toBeLessThan(5_000);
    (raw.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await raw.closed).code).toBe(4429);
    // The bystander, subscribed to the same channel, received everything (it reads).
    await stillHealthy(bystander);
  });
});

describe('subscriptions per session', () => {
  it('one past limits.maxSubscriptions is refused with too_many_subscriptions; the rest go on', async () => {
    const { bystander } = await setup({ limits: { maxSubscriptions: 3 } });
    fx!.wh.channel('room:*');
    const c = fx!.client({ transports: ['websocket'] });
    await c.connect();
    for (const name of ['room:1', 'room:2', 'room:3']) await c.channel(name).subscribe();
    await expect(c.channel('room:4').subscribe()).rejects.toMatchObject({ code: 'too_many_subscriptions', message: expect.stringContaining('limits.maxSubscriptions (3)') });
    // Subscribing again to one it holds is no new subscription.
    await expect(c.channel('room:3').subscribe()).resolves.toMatchObject({ presence: false });
    const got = nextEvent<[unknown]>((l) => c.channel('room:1').on('m', l));
    fx!.wh.publish('room:1', 'm', 'still subscribed');
    expect(await got).toEqual(['still subscribed']);
    await c.channel('room:2').unsubscribe();
    await expect(c.channel('room:4').subscribe()).resolves.toMatchObject({ presence: false });
    expect([...fx!.wh.session(c.sessionId!)!.channels].sort()).toEqual(['room:1', 'room:3', 'room:4']);
    expect(c.stats.reconnects).toBe(0);
    await stillHealthy(bystander);
  });
});

describe('sessions per server', () => {
  it('a new session past maxSessions is refused with server_busy and a retry hint, before authenticate(); a resume is not', async () => {
    let authenticated = 0;
    const { bystander } = await setup({
      maxSessions: 2,
      busyRetryMs: 1_500,
      authenticate: ({ auth }) => {
        authenticated++;
        return { id: String(auth ?? 'anon') };
      },
    });
    const { raw: second, welcome } = await wsSession(fx!.url); // the bystander's and this one: full
    const before = authenticated;
    const refusedWs = await rawWs(fx!.url);
    refusedWs.send(hello());
    expect(await refusedWs.next('error')).toEqual({ type: 'error', code: 'server_busy', message: expect.stringContaining('maxSessions (2)'), retryMs: 1_500 });
    expect((await refusedWs.closed).code).toBe(4503);
    const refusedSse = await rawHandshake(fx!.url);
    expect(refusedSse.status).toBe(503);
    expect(refusedSse.json).toMatchObject({ error: { code: 'server_busy', retryMs: 1_500 } });
    expect(refusedSse.headers.get('retry-after')).toBe('2');
    expect(authenticated).toBe(before);
    // The sessions there are untouched, and resuming one is no new session.
    second.ws.terminate();
    const again = await rawWs(fx!.url);
    again.send(hello({ sid: welcome.sid, token: welcome.token, ack: 0 }));
    expect(await again.next('welcome')).toMatchObject({ sid: welcome.sid, resumed: true });
    await stillHealthy(bystander);
    // One ends: a new session fits again.
    again.ws.close(1000);
    await waitFor(() => fx!.wh.sessionCount === 1);
    expect((await rawHandshake(fx!.url)).status).toBe(200);
  });

  it('a user past maxSessionsPerUser is refused with too_many_sessions; other users, and its resumes, are not', async () => {
    const { bystander } = await setup({ maxSessionsPerUser: 2, authenticate: ({ auth }) => ({ id: String(auth) }) });
    const ada = [await rawWs(fx!.url), await rawWs(fx!.url)];
    for (const raw of ada) raw.send(hello({ auth: 'ada' }));
    const welcomes = await Promise.all(ada.map((raw) => raw.next('welcome')));
    const third = await rawWs(fx!.url);
    third.send(hello({ auth: 'ada' }));
    expect(await third.next('error')).toMatchObject({ code: 'too_many_sessions', message: expect.stringContaining('maxSessionsPerUser (2)') });
    expect((await third.closed).code).toBe(4429);
    const refused = await rawHandshake(fx!.url, [24, { v: 1, auth: 'ada' }]);
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ error: { code: 'too_many_sessions' } });
    expect((await rawHandshake(fx!.url, [24, { v: 1, auth: 'bob' }])).status).toBe(200);
    // A resume is the same session, not a new one.
    ada[0]!.ws.terminate();
    const again = await rawWs(fx!.url);
    again.send(hello({ sid: welcomes[0]!.sid, token: welcomes[0]!.token, ack: 0 }));
    expect(await again.next('welcome')).toMatchObject({ resumed: true });
    // A client of the same user reports the refusal and gets in once one of the two ends.
    const c = fx!.client({ auth: 'ada' });
    const errors = nextEvent<[{ code: string }]>((l) => c.on('error', l));
    void c.connect();
    expect((await errors)[0].code).toBe('too_many_sessions');
    again.ws.close(1000);
    await c.connect();
    expect(c.transport).toBe('websocket');
    await stillHealthy(bystander);
  });

  it('a new session is refused with server_busy while the event loop ran later than maxEventLoopDelayMs; resumes are not, and it lets new ones in once caught up', async () => {
    const { bystander } = await setup({ maxEventLoopDelayMs: 250, busyRetryMs: 1_500 });
    const { raw: held, welcome } = await wsSession(fx!.url);
    const refusedWs = await rawWs(fx!.url);
    // The process (server and clients alike) falls 800 ms behind: its 100 ms timer fires that late.
    const until = Date.now() + 800;
    while (Date.now() < until) {
      // a loop this busy is what the limit is for
    }
    await new Promise((resolve) => setTimeout(resolve, 0)); // the late sample is taken first
    refusedWs.send(hello());
    expect(await refusedWs.next('error')).toEqual({ type: 'error', code: 'server_busy', message: expect.stringMatching(/event loop ran \d+ ms late, over maxEventLoopDelayMs \(250\)/), retryMs: 1_500 });
    expect((await refusedWs.closed).code).toBe(4503);
    const refusedSse = await rawHandshake(fx!.url);
    expect([refusedSse.status, refusedSse.json.error.code, refusedSse.headers.get('retry-after')]).toEqual([503, 'server_busy', '2']);
    // A session that exists is no new one: it resumes.
    held.ws.terminate();
    const again = await rawWs(fx!.url);
    again.send(hello({ sid: welcome.sid, token: welcome.token, ack: 0 }));
    expect(await again.next('welcome')).toMatchObject({ sid: welcome.sid, resumed: true });
    await stillHealthy(bystander);
    // Caught up (a second of timers on time): new sessions come in again.
    let status = 0;
    for (const deadline = Date.now() + 10_000; status !== 200 && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) status = (await rawHandshake(fx!.url)).status;
    expect(status).toBe(200);
  });

  it('maxEventLoopDelayMs of 0, the default, never refuses for a late event loop', async () => {
    await setup();
    const until = Date.now() + 800;
    while (Date.now() < until) {
      // as late as above
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await rawHandshake(fx!.url)).status).toBe(200);
  });

  for (const transports of [['websocket', 'sse'], ['sse']] as const) {
    it(`a client refused with server_busy (${transports.join(', ')}) waits for the hint, keeps its transport and its outbox, and gets in once there is room`, async () => {
      const { bystander } = await setup({ maxSessions: 2, busyRetryMs: 300 });
      const received: unknown[] = [];
      fx!.wh.onMessage('note', (data) => void received.push(data));
      const first = fx!.client({ transports: ['websocket'] });
      await first.connect();
      const c = fx!.client({ transports: [...transports] });
      const refusals: number[] = [];
      c.on('error', (e) => {
        expect(e.code).toBe('server_busy');
        refusals.push(Date.now());
      });
      const sent = c.send('note', 'queued while refused');
      void c.connect();
      await waitFor(() => refusals.length >= 3);
      // Each attempt came no sooner than the hint after the one before, on the same transport.
      for (let i = 1; i < refusals.length; i++) expect(refusals[i]! - refusals[i - 1]!).toBeGreaterThanOrEqual(300);
      expect(c.state).toBe('connecting');
      first.close();
      await c.connect();
      expect(c.transport).toBe(transports[0]);
      await sent;
      expect(received).toEqual(['queued while refused']);
      expect(c.stats.reconnects).toBe(0);
      await stillHealthy(bystander);
    });
  }
});

describe('handlers per session', () => {
  for (const transport of ['websocket', 'sse'] as const) {
    it(`${transport}: past limits.handlersInFlight the next request waits, and the frames behind it; nothing is refused or lost`, async () => {
      const { bystander } = await setup({ limits: { handlersInFlight: 2 } });
      const started: number[] = [];
      const gates: Array<() => void> = [];
      fx!.wh.onRequest('slow', (n) => {
        started.push(n as number);
        return new Promise((resolve) => gates.push(() => resolve(n)));
      });
      const c = fx!.client({ transports: [transport] });
      await c.connect();
      const replies = [1, 2, 3, 4].map((n) => c.request('slow', n));
      let subscribed = false;
      const subscribe = c.channel('news').subscribe().then(() => (subscribed = true));
      await waitFor(() => started.length >= 2);
      // The bystander's round trip goes through the same server: the client's frames are there by now.
      await stillHealthy(bystander);
      expect(started).toEqual([1, 2]);
      expect(subscribed).toBe(false);
      expect(fx!.wh.session(c.sessionId!)!.channels.has('news')).toBe(false);
      gates[1]!(); // any handler that settles makes room for the next
      await waitFor(() => started.length >= 3);
      expect(subscribed).toBe(false);
      gates[0]!();
      await waitFor(() => started.length === 4);
      await subscribe;
      gates[2]!();
      gates[3]!();
      expect(await Promise.all(replies)).toEqual([1, 2, 3, 4]);
      expect(started).toEqual([1, 2, 3, 4]);
      expect(c.stats.reconnects).toBe(0);
    });
  }
});

describe('HTTP input (SSE + POST)', () => {
  async function sseSession(url: string) {
    const hs = await rawHandshake(url);
    expect(hs.status).toBe(200);
    const welcome = hs.json as [number, WelcomeFrame extends { type: string } ? Omit<WelcomeFrame, 'type'> : never];
    const body = welcome[1];
    return { sid: body.sid, token: body.token! };
  }

  it('the handshake refuses garbage with 400 and a stable code', async () => {
    const { bystander } = await setup();
    const res = await rawHandshake(fx!.url, 'garbage');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'bad_frame' } });
    expect(res.headers.get('content-type')).toContain('application/json');
    await stillHealthy(bystander);
  });

  it('POST /send: missing headers 400, unknown session 404, wrong token 401', async () => {
    const { bystander } = await setup();
    const { sid } = await sseSession(fx!.url);
    const noHeaders = await fetch(fx!.url + '/send', { method: 'POST', body: '[20,0]\n' });
    expect(noHeaders.status).toBe(400);
    expect(await noHeaders.json()).toMatchObject({ error: { code: 'bad_request' } });
    expect(await rawSend(fx!.url, 'unknown-session-xxxxx', 't'.repeat(32), '[20,0]\n')).toMatchObject({ status: 404, json: { error: { code: 'session_unknown' } } });
    expect(await rawSend(fx!.url, sid, 'wrong'.padEnd(32, 'x'), '[20,0]\n')).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    await stillHealthy(bystander);
  });

  it('POST /send: oversize body and oversize line → 413', async () => {
    const { bystander } = await setup({ limits: { maxMessageBytes: 1024, maxBatchBytes: 8 * 1024 } });
    const { sid, token } = await sseSession(fx!.url);
    const line = `[4,1,"n","${'x'.repeat(2000)}"]\n`;
    expect(await rawSend(fx!.url, sid, token, line)).toMatchObject({ status: 413, json: { error: { code: 'message_too_large' } } });
    const big = Array.from({ length: 20 }, (_, i) => `[4,${i + 1},"n","${'x'.repeat(500)}"]`).join('\n');
    expect(await rawSend(fx!.url, sid, token, big)).toMatchObject({ status: 413, json: { error: { code: 'body_too_large' } } });
    await stillHealthy(bystander);
  });

  it('POST /send: frames before a malformed line are processed; the answer says how far', async () => {
    const { bystander } = await setup();
    const { sid, token } = await sseSession(fx!.url);
    const res = await rawSend(fx!.url, sid, token, '[5,1,"echo","first"]\n[5,2,"echo","second"]\n{oops\n[5,3,"echo","never"]\n');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'bad_frame', ack: 2 } });
    await stillHealthy(bystander);
    // The bystander's echo and the two processed ones, nothing from after the bad line.
    await waitFor(() => fx!.wh.session(sid));
    const ok = await rawSend(fx!.url, sid, token, '[5,3,"echo","third"]\n[21,5]\n');
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('[20,3]\n[22,5]\n');
  });

  it('GET /sse: proxy-safe headers, retry, welcome, replay, id on every event', async () => {
    await setup();
    const { sid, token } = await sseSession(fx!.url);
    expect((await rawSend(fx!.url, sid, token, '[1,1,"news"]\n')).status).toBe(200);
    fx!.wh.publish('news', 'item', 'a');
    fx!.wh.publish('news', 'item', 'b');
    const sse = await rawSse(fx!.url, { 'x-wirehop-session': sid, 'x-wirehop-token': token });
    expect(sse.response.status).toBe(200);
    expect(sse.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(sse.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(sse.response.headers.get('x-accel-buffering')).toBe('no');
    await waitFor(() => sse.frames.length >= 4);
    expect(sse.frames.map((f) => f.type)).toEqual(['welcome', 'reply', 'event', 'event']);
    expect(sse.ids).toEqual(['0', '1', '2', '3']);
    expect(sse.errors).toEqual([]);
    sse.abort();
    // Resume from Last-Event-ID: only what came after it.
    fx!.wh.publish('news', 'item', 'c');
    const again = await rawSse(fx!.url, { 'x-wirehop-session': sid, 'x-wirehop-token': token, 'last-event-id': '2' });
    await waitFor(() => again.frames.length >= 3);
    expect(again.frames.slice(1).map((f) => (f.type === 'event' ? f.data : f.type))).toEqual(['b', 'c']);
    again.abort();
  });

  it('GET /sse: wrong token 401 and unknown session 404, as JSON', async () => {
    await setup();
    const { sid } = await sseSession(fx!.url);
    const wrong = await rawSse(fx!.url, { 'x-wirehop-session': sid, 'x-wirehop-token': 'n'.repeat(32) });
    expect(wrong.response.status).toBe(401);
    expect(await wrong.response.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const unknown = await rawSse(fx!.url, { 'x-wirehop-session': 'nope-nope-nope-nope-1', 'x-wirehop-token': 'n'.repeat(32) });
    expect(unknown.response.status).toBe(404);
  });

  it('an expired session answers 410 with how far it processed', async () => {
    await setup({ sessionTtlMs: 100 });
    const { sid, token } = await sseSession(fx!.url);
    expect((await rawSend(fx!.url, sid, token, '[5,1,"echo",1]\n')).status).toBe(200);
    await waitFor(() => !fx!.wh.session(sid), { what: 'expiry' });
    expect(await rawSend(fx!.url, sid, token, '[5,2,"echo",2]\n')).toMatchObject({ status: 410, json: { error: { code: 'session_expired', ack: 1 } } });
  });

  it('Origin outside the allow-list → 403 on handshake, SSE and POST; allowed origins get CORS', async () => {
    const { bystander } = await setup({ origins: ['http://good.example'] });
    const bad = await rawHandshake(fx!.url, [24, { v: 1 }], { origin: 'http://evil.example' });
    expect(bad.status).toBe(403);
    expect(bad.json).toMatchObject({ error: { code: 'forbidden_origin' } });
    const good = await rawHandshake(fx!.url, [24, { v: 1 }], { origin: 'http://good.example' });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe('http://good.example');
    const { sid, token } = { sid: good.json[1].sid as string, token: good.json[1].token as string };
    expect((await rawSend(fx!.url, sid, token, '[20,0]\n', { origin: 'http://evil.example' })).status).toBe(403);
    const sse = await rawSse(fx!.url, { 'x-wirehop-session': sid, 'x-wirehop-token': token, origin: 'http://evil.example' });
    expect(sse.response.status).toBe(403);
    const preflight = await fetch(fx!.url + '/send', {
      method: 'OPTIONS',
      headers: { origin: 'http://good.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-wirehop-session,x-wirehop-token,content-type' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://good.example');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-wirehop-token');
    await stillHealthy(bystander);
  });
});

describe('the client facing a broken server', () => {
  it('reports invalid server frames as errors and reconnects, without crashing', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.on('message', () => ws.send(connections === 1 ? '{garbage' : '[99,"unknown"]'));
    });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const client = createClient({ url: `http://127.0.0.1:${port}`, transports: ['websocket'], reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    try {
      await waitFor(() => connections >= 3, { what: 'the client to keep reconnecting' });
      expect(errors).toContain('bad_frame');
      expect(errors).toContain('unknown_frame');
      expect(client.state).not.toBe('closed');
    } finally {
      client.close();
      await new Promise((r) => wss.close(r));
    }
  });
});
