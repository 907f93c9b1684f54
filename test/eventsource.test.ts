/**
 * The read-only channel stream for a plain `EventSource` (`GET {path}/events`, protocol.md §5a),
 * read here with Node's fetch and the protocol package's SSE parser, as a browser would read it:
 * live delivery, resume with Last-Event-ID (exactly the missed events, once, in order), explicit
 * gaps, refusals, the slow-reader cut, the stream limit and heartbeats.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSseParser, WirehopError, type StreamPosition } from '@wirehop/protocol';
import type { AuthContext } from '@wirehop/server';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { readText } from './helpers/raw.js';
import { waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
afterEach(async () => {
  for (const s of streams.splice(0)) s.abort();
  await fx?.close();
  fx = undefined;
});

interface Got {
  event: string;
  data: string;
  id: string | undefined;
}

interface Stream {
  status: number;
  response: Response;
  /** Dispatched events, in order (publications are `message`). */
  events: Got[];
  comments: string[];
  retry: number | undefined;
  /** The reader's last event id, as EventSource keeps it (id-only events included). */
  lastId(): string | undefined;
  /** The published data of the `message` events, parsed. */
  messages(): unknown[];
  /** Resolves when the response ends or fails (the server cut it). */
  ended: Promise<void>;
  /** True once `ended` resolved. */
  done: boolean;
  /** Start reading the body (only needed when opened with `read: false`). */
  read(): void;
  abort(): void;
}

const streams: Stream[] = [];

/** Opens `GET {url}/events` with the query and headers given; reads the body unless `read` is false. */
async function openStream(query: Record<string, string>, headers: Record<string, string> = {}, read = true): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(`${fx!.url}/events?${new URLSearchParams(query)}`, { headers, signal: controller.signal });
  const events: Got[] = [];
  const comments: string[] = [];
  let lastId: string | undefined;
  const stream: Stream = {
    status: response.status,
    response,
    events,
    comments,
    retry: undefined,
    lastId: () => lastId,
    messages: () => events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data)),
    ended: Promise.resolve(),
    done: false,
    read: () => undefined,
    abort: () => controller.abort(),
  };
  // The parser keeps the last id across events, as EventSource does; an id-only event sets it too.
  const parser = createSseParser({
    onEvent: (e) => events.push(e),
    onComment: (text) => comments.push(text),
    onRetry: (ms) => (stream.retry = ms),
  });
  // The server ends lines with LF only; a chunk may end mid-line. As in EventSource, an id counts
  // once its event is complete (the blank line), whether or not the event has data.
  let partial = '';
  let idBuffer: string | undefined;
  const feedLine = (text: string) => {
    parser.feed(text);
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('id:')) idBuffer = line.slice(line[3] === ' ' ? 4 : 3);
      else if (line === '' && idBuffer !== undefined) lastId = idBuffer;
    }
  };
  let start!: () => void;
  const started = new Promise<void>((resolve) => (start = resolve));
  stream.read = start;
  stream.ended = (async () => {
    if (!response.ok || !response.body) return;
    await started;
    await readText(response, feedLine);
    stream.done = true;
  })();
  if (read) start();
  streams.push(stream);
  return stream;
}

const id = (p: StreamPosition) => `${p.offset}@${p.epoch}`;

async function publishMany(channel: string, from: number, to: number): Promise<StreamPosition[]> {
  const positions: StreamPosition[] = [];
  for (let i = from; i <= to; i++) positions.push(await fx!.wh.publish(channel, 'item', { i }));
  return positions;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => ({ i: from + k }));

describe('EventSource channel streams', () => {
  it('streams live publications: data is the published JSON, id the channel position, event type message', async () => {
    fx = await startFixture();
    fx.wh.channel('feed:*', { eventSource: true });
    const s = await openStream({ channel: 'feed:a' });
    expect(s.status).toBe(200);
    expect(s.response.headers.get('content-type')).toBe('text/event-stream');
    expect(s.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    const epoch = (await fx.wh.history('feed:a')).position.epoch;
    // Before any publication the reader already has a position to resume from.
    await waitFor(() => s.lastId() === `0@${epoch}`, { what: 'the starting id' });
    expect(s.retry).toBe(1000);

    const positions = await publishMany('feed:a', 1, 50);
    await fx.wh.publish('feed:b', 'item', { other: true });
    await waitFor(() => s.events.length === 50, { what: '50 events' });
    expect(s.messages()).toEqual(range(1, 50));
    expect(s.events.map((e) => e.event)).toEqual(Array(50).fill('message'));
    expect(s.events.map((e) => e.id)).toEqual(positions.map(id));
    expect(fx.wh.eventStreamCount).toBe(1);
    expect(fx.wh.sessionCount).toBe(0); // a stream is not a session
    s.abort();
    await waitFor(() => fx!.wh.eventStreamCount === 0, { what: 'the stream to be released' });
  });

  it('resumes with Last-Event-ID: exactly the missed publications, once, in order, then live', async () => {
    fx = await startFixture();
    fx.wh.channel('feed', { eventSource: true });
    const first = await openStream({ channel: 'feed' });
    await publishMany('feed', 1, 10);
    await waitFor(() => first.events.length === 10, { what: '10 events' });
    first.abort();
    await waitFor(() => fx!.wh.eventStreamCount === 0, { what: 'the stream to be released' });
    await publishMany('feed', 11, 30); // missed while away

    const again = await openStream({ channel: 'feed' }, { 'last-event-id': first.lastId()! });
    await publishMany('feed', 31, 40);
    await waitFor(() => again.events.length === 30, { what: '30 events' });
    expect(again.messages()).toEqual(range(11, 40));
    expect(again.events.every((e) => e.event === 'message')).toBe(true);
  });

  it('resumes without overlap while publications keep coming during the history read', async () => {
    fx = await startFixture();
    fx.wh.channel('feed', { eventSource: true });
    await publishMany('feed', 1, 200);
    const epoch = (await fx.wh.history('feed')).position.epoch;
    let n = 200;
    let opened = false;
    const opening = openStream({ channel: 'feed' }, { 'last-event-id': `50@${epoch}` }).finally(() => (opened = true));
    // Publish on every turn of the event loop until the stream is open: some land during recovery.
    while (!opened) {
      void fx.wh.publish('feed', 'item', { i: ++n });
      await new Promise((resolve) => setImmediate(resolve));
    }
    const s = await opening;
    await publishMany('feed', n + 1, n + 20);
    n += 20;
    await waitFor(() => s.events.length === n - 50, { what: `${n - 50} events` });
    expect(s.messages()).toEqual(range(51, n));
  });

  it('takes the first position from ?since=, and Last-Event-ID over it on a reconnect', async () => {
    fx = await startFixture();
    fx.wh.channel('feed', { eventSource: true });
    const positions = await publishMany('feed', 1, 10);
    const s = await openStream({ channel: 'feed', since: id(positions[6]!) });
    await waitFor(() => s.events.length === 3, { what: '3 events' });
    expect(s.messages()).toEqual(range(8, 10));
    const both = await openStream({ channel: 'feed', since: id(positions[1]!) }, { 'last-event-id': id(positions[8]!) });
    await waitFor(() => both.events.length === 1, { what: '1 event' });
    expect(both.messages()).toEqual(range(10, 10));
  });

  it('sends an explicit gap event when history no longer reaches back, then continues', async () => {
    fx = await startFixture();
    fx.wh.channel('feed', { eventSource: true, history: { size: 5 } });
    const positions = await publishMany('feed', 1, 20); // history keeps 16..20
    const s = await openStream({ channel: 'feed' }, { 'last-event-id': id(positions[1]!) });
    await publishMany('feed', 21, 22);
    await waitFor(() => s.events.length === 8, { what: 'a gap and 7 events' });
    const [gap, ...rest] = s.events;
    expect(gap!.event).toBe('gap');
    const body = JSON.parse(gap!.data) as { code: string; message: string; position: StreamPosition };
    expect(body.code).toBe('history_unavailable');
    expect(body.position).toEqual({ epoch: positions[0]!.epoch, offset: 15 });
    expect(gap!.id).toBe(`15@${positions[0]!.epoch}`);
    expect(rest.map((e) => JSON.parse(e.data))).toEqual(range(16, 22));
  });

  it('treats a position of another epoch (history lost) as a gap', async () => {
    fx = await startFixture();
    fx.wh.channel('feed', { eventSource: true });
    const positions = await publishMany('feed', 1, 3);
    const s = await openStream({ channel: 'feed' }, { 'last-event-id': '7@gone' });
    await waitFor(() => s.events.length === 4, { what: 'a gap and 3 events' });
    expect(s.events[0]!.event).toBe('gap');
    expect(JSON.parse(s.events[0]!.data).position).toEqual({ epoch: positions[0]!.epoch, offset: 0 });
    expect(s.messages()).toEqual(range(1, 3));
    expect(s.events[3]!.id).toBe(id(positions[2]!));
  });

  it('refuses with a clear status and JSON reason: not exposed, no channel, bad id, unauthenticated, unauthorized', async () => {
    const seen: AuthContext[] = [];
    fx = await startFixture({
      authenticate: (ctx) => {
        seen.push(ctx);
        if (ctx.cookies.user) return { id: ctx.cookies.user };
        const auth = ctx.auth as { token?: string } | undefined;
        if (auth?.token === 'good') return { id: 'token-user' };
        throw new WirehopError('unauthorized', 'who are you?');
      },
    });
    fx.wh.channel('open', { eventSource: true });
    fx.wh.channel('private', { eventSource: false });
    fx.wh.channel('vip:*', { eventSource: true, authorize: (session) => session.user.id === 'ada' });
    fx.wh.channel('closed:*', {
      eventSource: true,
      authorize: () => {
        throw new WirehopError('forbidden', 'closed for maintenance');
      },
    });
    const ada = { cookie: 'user=ada' };
    const answer = async (query: Record<string, string>, headers: Record<string, string> = ada) => {
      const res = await fetch(`${fx!.url}/events?${new URLSearchParams(query)}`, { headers });
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { error: { code: string; message: string } } };
    };
    expect(await answer({ channel: 'private' })).toMatchObject({ status: 404, type: 'application/json', body: { error: { code: 'not_exposed' } } });
    expect(await answer({ channel: 'undeclared' })).toMatchObject({ status: 404, body: { error: { code: 'not_exposed' } } });
    expect(await answer({})).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(await answer({ channel: 'bad\u0001name' })).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    for (const bad of ['abc', '12', '-1@e', `1@${'x'.repeat(65)}`, '1@%E0%A4%A'])
      expect(await answer({ channel: 'open' }, { ...ada, 'last-event-id': bad }), bad).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(await answer({ channel: 'open', since: 'x@y@' })).toMatchObject({ status: 400 });
    expect(await answer({ channel: 'open' }, {})).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: 'who are you?' } } });
    expect(await answer({ channel: 'vip:1' }, { cookie: 'user=bob' })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await answer({ channel: 'closed:1' })).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: 'closed for maintenance' } } });
    expect(fx.wh.eventStreamCount).toBe(0);

    // Allowed: by cookie, or by a query parameter handed to authenticate as `auth`.
    const byCookie = await openStream({ channel: 'vip:1' }, ada);
    expect(byCookie.status).toBe(200);
    const byQuery = await openStream({ channel: 'open', token: 'good' });
    expect(byQuery.status).toBe(200);
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ transport: 'sse', channel: 'open', auth: { token: 'good' } });
    expect(seen.every((ctx) => ctx.channel !== undefined)).toBe(true);
  });

  it('cuts a reader that stops reading once its backlog passes highWaterMarkBytes; it resumes from history, others are unaffected', async () => {
    const highWaterMarkBytes = 16 * 1024;
    fx = await startFixture({ limits: { highWaterMarkBytes } });
    fx.wh.channel('feed', { eventSource: true, history: { size: 50_000 } });
    const session = fx.client();
    const got: unknown[] = [];
    const channel = session.channel('feed');
    channel.on('item', (d) => got.push(d));
    await channel.subscribe();
    const fast = await openStream({ channel: 'feed' });
    const slow = await openStream({ channel: 'feed' }, {}, false); // never reads until cut
    expect(fx.wh.eventStreamCount).toBe(2);

    const pad = 'x'.repeat(2000);
    let n = 0;
    // Publish until the server cuts the slow reader: its socket and the kernel fill up first. Each
    // turn publishes less than highWaterMarkBytes, so a reader that keeps reading is never behind by more.
    while (fx.wh.eventStreamCount === 2 && n < 40_000) {
      for (let k = 0; k < 4; k++) void fx.wh.publish('feed', 'item', { i: ++n, pad });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(fx.wh.eventStreamCount).toBe(1);
    expect(fast.done).toBe(false); // the reader that keeps up stays connected
    for (let k = 0; k < 10; k++) void fx.wh.publish('feed', 'item', { i: ++n, pad });

    slow.read();
    await slow.ended;
    const part = slow.messages() as Array<{ i: number }>;
    // What it read is a clean prefix: in order, none twice, none skipped; then it resumes.
    expect(part.map((d) => d.i)).toEqual(part.map((_, k) => k + 1));
    expect(part.length).toBeLessThan(n);
    // As EventSource does: reconnect with the last id whenever the stream ends, until it has all.
    const rest: number[] = [];
    let lastId = slow.lastId()!;
    let connections = 0;
    while (part.length + rest.length < n) {
      const resumed = await openStream({ channel: 'feed' }, { 'last-event-id': lastId });
      connections++;
      await waitFor(() => part.length + rest.length + resumed.events.length >= n || resumed.done, { what: 'the rest, from history' });
      rest.push(...(resumed.messages() as Array<{ i: number }>).map((d) => d.i));
      lastId = resumed.lastId()!;
      resumed.abort();
    }
    expect(rest).toEqual(range(part.length + 1, n).map((d) => d.i));
    console.error(`slow reader cut after ${n} publications of ~2 KB; it had read ${part.length}; the rest took ${connections} connection(s)`);

    await waitFor(() => fast.events.length === n && got.length === n, { what: 'the other readers to have everything' });
    expect((fast.messages() as Array<{ i: number }>).map((d) => d.i)).toEqual(range(1, n).map((d) => d.i));
    expect((got as Array<{ i: number }>).map((d) => d.i)).toEqual(range(1, n).map((d) => d.i));
  }, 60_000);

  it('cuts a resume larger than replayBufferBytes into several connections, each making progress', async () => {
    fx = await startFixture({ limits: { maxMessageBytes: 8 * 1024, replayBufferBytes: 32 * 1024 } });
    fx.wh.channel('feed', { eventSource: true });
    const pad = 'y'.repeat(1000);
    const positions: StreamPosition[] = [];
    for (let i = 1; i <= 200; i++) positions.push(await fx.wh.publish('feed', 'item', { i, pad }));
    const got: number[] = [];
    let lastId = `0@${positions[0]!.epoch}`;
    let connections = 0;
    while (got.length < 200 && connections < 50) {
      const s = await openStream({ channel: 'feed' }, { 'last-event-id': lastId });
      connections++;
      await waitFor(() => got.length + s.events.length >= 200 || s.done, { what: 'the stream to end or finish' });
      const before = got.length;
      got.push(...(s.messages() as Array<{ i: number }>).map((d) => d.i));
      expect(got.length).toBeGreaterThan(before);
      lastId = s.lastId()!;
      s.abort();
    }
    expect(got).toEqual(range(1, 200).map((d) => d.i));
    // About 200 KB of history through 32 KiB bursts.
    expect(connections).toBeGreaterThan(4);
  });

  it('drops an ended stream whose reader does not take the rest within heartbeatTimeoutMs', async () => {
    fx = await startFixture({ heartbeatTimeoutMs: 200, limits: { replayBufferBytes: 4 * 1024 * 1024 } });
    fx.wh.channel('feed', { eventSource: true, history: { size: 10_000 } });
    const pad = 'z'.repeat(2000);
    let first: StreamPosition | undefined;
    for (let i = 1; i <= 3000; i++) {
      const position = await fx.wh.publish('feed', 'item', { i, pad });
      first ??= position;
    }
    // Asks for all 6 MB of history and reads none of it: more than the sockets take, so the
    // response, ended after 4 MiB, can never finish by itself.
    const s = await openStream({ channel: 'feed' }, { 'last-event-id': `0@${first!.epoch}` }, false);
    expect(s.status).toBe(200);
    await waitFor(() => fx!.wh.eventStreamCount === 0, { what: 'the stalled stream to be dropped' });
  });

  it('over maxEventStreams, tells the reader to come back later (EventSource gives up on a non-200), and frees the slot when one closes', async () => {
    fx = await startFixture({ maxEventStreams: 1 });
    fx.wh.channel('feed', { eventSource: true });
    const first = await openStream({ channel: 'feed' });
    expect(first.status).toBe(200);
    const res = await fetch(`${fx.url}/events?channel=feed`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The whole answer, then the end: retry after 5–7.5 s, and why.
    const text = await res.text();
    const retry = Number(/^retry: (\d+)\n/.exec(text)?.[1]);
    expect(retry).toBeGreaterThanOrEqual(5000);
    expect(retry).toBeLessThanOrEqual(7500);
    const unavailable = /event: unavailable\ndata: (.*)\n\n$/.exec(text);
    expect(JSON.parse(unavailable![1]!)).toEqual({ code: 'stream_limit', message: expect.stringContaining('maxEventStreams'), retryMs: retry });
    expect(fx.wh.eventStreamCount).toBe(1);
    first.abort();
    await waitFor(() => fx!.wh.eventStreamCount === 0, { what: 'the slot to be freed' });
    expect((await openStream({ channel: 'feed' })).status).toBe(200);
  });

  it('writes heartbeat comments every heartbeatMs', async () => {
    fx = await startFixture({ heartbeatMs: 50 });
    fx.wh.channel('feed', { eventSource: true });
    const s = await openStream({ channel: 'feed' });
    await waitFor(() => s.comments.filter((c) => c === 'hb').length >= 2, { what: 'two heartbeats' });
  });

  it('is not a session: no presence, no join/leave in the stream, no subscribe events', async () => {
    fx = await startFixture();
    fx.wh.channel('room', { eventSource: true, presence: true });
    const subscribes: string[] = [];
    fx.wh.on('subscribe', (_session, channel) => subscribes.push(channel));
    const s = await openStream({ channel: 'room' });
    const c = fx.client();
    await c.channel('room').subscribe();
    await waitFor(() => subscribes.length === 1, { what: 'the client subscription' });
    await fx.wh.publish('room', 'item', { i: 1 });
    await waitFor(() => s.events.length === 1, { what: 'the publication' });
    expect(s.events.map((e) => e.event)).toEqual(['message']);
    expect((await fx.wh.presence('room')).length).toBe(1); // the client only
  });

  it('ends every stream when the server closes', async () => {
    fx = await startFixture();
    fx.wh.channel('feed', { eventSource: true });
    const s = await openStream({ channel: 'feed' });
    await fx.wh.close();
    await s.ended;
    expect(fx.wh.eventStreamCount).toBe(0);
  });
});
