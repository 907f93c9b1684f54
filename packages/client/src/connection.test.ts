/**
 * The connection lifecycle against a scripted network: a fake WebSocket constructor and a fake
 * fetch that the test answers frame by frame, with fake timers. This pins the order of things in a
 * switch (what is sent on which link, when the old one closes and how) that an end-to-end test can
 * only observe from outside. The e2e suites in test/ run the same paths against the real server.
 */
import {
  NDJSON,
  PROTOCOL_VERSION,
  decodeClientFrame,
  encodeBatch,
  encodeFrame,
  sseFrame,
  splitBatch,
  type ClientFrame,
  type ServerFrame,
  type WelcomeFrame,
} from '@wirehop/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './client.js';
import type { ClientOptions, TransportChange, WebSocketLike, WebSocketLikeConstructor, WirehopClient } from './types.js';

const URL = 'http://server.test/wirehop';

function welcome(over: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return { type: 'welcome', v: PROTOCOL_VERSION, sid: 'S', resumed: false, ack: 0, heartbeatMs: 15_000, heartbeatTimeoutMs: 10_000, sessionTtlMs: 30_000, maxMessageBytes: 65_536, ...over };
}

const decode = (text: string): ClientFrame => {
  const d = decodeClientFrame(text);
  if (!d.ok) throw new Error(`the client sent a bad frame: ${text}`);
  return d.frame;
};

/** A scripted network: every socket and request the client opens, answered by the test. */
function createNet() {
  const sockets: FakeSocket[] = [];
  const streams: FakeStream[] = [];
  const posts: ClientFrame[][] = [];
  const requests: Array<{ method: string; path: string; headers: Record<string, string> }> = [];
  /** POST /session bodies, as frames. */
  const sessionBodies: ClientFrame[][] = [];
  const net = {
    sockets,
    streams,
    posts,
    requests,
    sessionBodies,
    /** POST /session answers this. */
    created: welcome({ token: 'T' }),
    /** GET /sse: an HTTP error status instead of a stream. */
    sseStatus: 200,
    /** ...and its JSON body. */
    sseError: {} as object,
    /** The ack the server puts in POST answers. */
    serverAck: 0,
    /** POST /send: this many more are answered 404 with `sendError` (Infinity: all of them). */
    refuseSends: 0,
    sendError: {} as object,
    /** POST /send answers once this settles. */
    sendGate: Promise.resolve() as Promise<unknown>,
    WebSocket: undefined as unknown as WebSocketLikeConstructor,
    fetch: undefined as unknown as typeof fetch,
  };

  class FakeSocket implements WebSocketLike {
    readyState = 0;
    onopen: ((event: never) => void) | null = null;
    onmessage: ((event: never) => void) | null = null;
    onclose: ((event: never) => void) | null = null;
    onerror: ((event: never) => void) | null = null;
    /** Every frame sent, as the server reads them: a message may hold several, one per line. */
    readonly sent: ClientFrame[] = [];
    messages = 0;
    closed: number | undefined;
    constructor(readonly url: string) {
      sockets.push(this);
    }
    send(data: string) {
      this.messages++;
      for (const line of data.split('\n')) this.sent.push(decode(line));
    }
    close(code?: number) {
      this.closed = code;
      this.readyState = 3;
    }
    // the server's side
    open() {
      this.readyState = 1;
      (this.onopen as (e: unknown) => void)?.({});
    }
    push(...frames: ServerFrame[]) {
      for (const f of frames) (this.onmessage as (e: unknown) => void)?.({ data: encodeFrame(f) });
    }
    drop(code: number, reason = '') {
      this.readyState = 3;
      (this.onclose as (e: unknown) => void)?.({ code, reason });
    }
  }
  net.WebSocket = FakeSocket as unknown as WebSocketLikeConstructor;

  net.fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new globalThis.URL(String(input));
    const path = url.pathname.replace('/wirehop', '');
    const method = init.method ?? 'GET';
    const headers = (init.headers ?? {}) as Record<string, string>;
    requests.push({ method, path, headers });
    if (path === '/session' && method === 'POST') {
      sessionBodies.push(splitBatch(String(init.body)).map(decode));
      return new Response(encodeFrame(net.created), { status: 200 });
    }
    if (path === '/session') return new Response(null, { status: 204 });
    if (path === '/send') {
      const frames = splitBatch(String(init.body)).map(decode);
      posts.push(frames);
      await net.sendGate;
      if (net.refuseSends > 0) {
        net.refuseSends--;
        return new Response(JSON.stringify(net.sendError), { status: 404 });
      }
      const pongs = frames.flatMap((f) => (f.type === 'ping' ? [encodeFrame({ type: 'pong', n: f.n })] : []));
      return new Response(encodeBatch([encodeFrame({ type: 'ack', ack: net.serverAck }), ...pongs]), { headers: { 'content-type': NDJSON } });
    }
    if (path === '/sse') {
      if (net.sseStatus !== 200) return new Response(JSON.stringify(net.sseError), { status: net.sseStatus });
      const stream = new FakeStream(headers, init.signal ?? undefined);
      streams.push(stream);
      return new Response(stream.body, { headers: { 'content-type': 'text/event-stream' } });
    }
    return new Response(null, { status: 404 });
  }) as typeof fetch;

  return net;
}

class FakeStream {
  readonly body: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  aborted = false;
  constructor(
    readonly headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ) {
    this.body = new ReadableStream({ start: (c) => void (this.controller = c) });
    signal?.addEventListener('abort', () => {
      this.aborted = true;
      try {
        this.controller.error(new DOMException('aborted', 'AbortError'));
      } catch {
        // already closed
      }
    });
  }
  push(...frames: ServerFrame[]) {
    for (const f of frames) this.controller.enqueue(new TextEncoder().encode(sseFrame('seq' in f ? f.seq : 0, f.type, encodeFrame(f))));
  }
}

type Net = ReturnType<typeof createNet>;

/** Lets promises, streams and due timers run. */
const settle = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

function start(net: Net, options: Partial<ClientOptions> = {}) {
  const client = createClient({ url: URL, WebSocket: net.WebSocket, fetch: net.fetch, ...options });
  const log: string[] = [];
  const transports: TransportChange[] = [];
  const messages: unknown[] = [];
  client.on('state', (e) => log.push(`state ${e.to} ${e.reason}`));
  client.on('transport', (e) => {
    transports.push(e);
    log.push(`transport ${e.from}→${e.to} ${e.reason}`);
  });
  client.on('message', (_event, data) => messages.push(data));
  client.on('error', () => {});
  return { client, log, transports, messages };
}

const message = (seq: number): ServerFrame => ({ type: 'message', seq, event: 'm', data: seq });
const types = (frames: ClientFrame[]) => frames.map((f) => f.type);

/** Connects on WebSocket; returns its socket. */
async function onWebSocket(net: Net, client: WirehopClient) {
  await settle();
  const ws = net.sockets.at(-1)!;
  ws.open();
  ws.push(welcome({ token: 'T' }));
  await settle();
  expect(client.transport).toBe('websocket');
  return ws;
}

let clients: WirehopClient[] = [];
beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
  vi.useRealTimers();
  vi.restoreAllMocks();
});
const track = <T extends { client: WirehopClient }>(x: T) => (clients.push(x.client), x);

describe('frames after HELLO', () => {
  const seqs = (frames: ClientFrame[]) => frames.flatMap((f) => ('seq' in f ? [`${f.type} ${f.seq}`] : []));

  it('a new session: the subscribes queued before the socket opened follow HELLO at once; from the first send on, all waits for WELCOME', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false }));
    const subscribed = client.channel('room').subscribe();
    const sent = client.send('x', 'a');
    const other = client.channel('other').subscribe(); // behind the send: it waits too, to keep the order
    await settle();
    const ws = net.sockets[0]!;
    ws.open();
    expect(types(ws.sent)).toEqual(['hello', 'subscribe']);
    expect(ws.messages).toBe(1); // one message: one write on each side
    const queuedLater = client.send('x', 'b'); // after HELLO, before WELCOME: waits for it
    await settle();
    expect(ws.sent).toHaveLength(2);
    ws.push(welcome({ token: 'T' }));
    await settle();
    expect(seqs(ws.sent)).toEqual(['subscribe 1', 'send 2', 'subscribe 3', 'send 4']);
    ws.push({ type: 'reply', seq: 1, re: 1, data: { presence: false } }, { type: 'reply', seq: 2, re: 3, data: { presence: false } }, { type: 'ack', ack: 4 });
    await expect(Promise.all([subscribed, other])).resolves.toMatchObject([{ presence: false }, { presence: false }]);
    await expect(Promise.all([sent, queuedLater])).resolves.toEqual([undefined, undefined]);
  });

  it('a resume sends what the server had not acked right after HELLO; WELCOME.ack below it sends nothing twice', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }));
    const ws = await onWebSocket(net, client);
    const sends = [client.send('x', 1), client.send('x', 2), client.send('x', 3)];
    await settle();
    ws.push({ type: 'ack', ack: 1 });
    ws.drop(1006);
    await settle(20);
    const again = net.sockets[1]!;
    again.open();
    expect(types(again.sent)).toEqual(['hello', 'send', 'send']);
    expect(again.sent[0]).toMatchObject({ type: 'hello', sid: 'S' });
    again.push(welcome({ resumed: true, ack: 1 })); // seq 2 and 3 are on their way, behind the HELLO
    await settle();
    expect(seqs(again.sent)).toEqual(['send 2', 'send 3']);
    again.push({ type: 'ack', ack: 3 });
    await expect(Promise.all(sends)).resolves.toEqual([undefined, undefined, undefined]);
  });

  it('a resume refused with BYE applied nothing behind its HELLO: after session_unknown, what never reached a session is sent again', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }));
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    const ws = await onWebSocket(net, client);
    const maybe = client.send('x', 1).catch((e: unknown) => e); // on the live socket: it may have been processed
    await settle();
    ws.drop(1006);
    const queued = client.send('x', 2); // no transport carries the session: it stays here
    await settle(20);
    const again = net.sockets[1]!;
    again.open();
    expect(seqs(again.sent)).toEqual(['send 1', 'send 2']); // behind the resume HELLO
    again.push({ type: 'bye', code: 'session_unknown', message: 'restarted', ack: 0 });
    await settle();
    expect(gaps).toEqual([{ code: 'session_unknown', message: 'restarted', resent: 1, lost: 1 }]);
    await expect(maybe).resolves.toMatchObject({ code: 'session_lost' });
    await settle(20);
    const fresh = net.sockets[2]!;
    fresh.open();
    fresh.push(welcome({ token: 'T2' }));
    await settle();
    expect(seqs(fresh.sent)).toEqual(['send 1']);
    fresh.push({ type: 'ack', ack: 1 });
    await expect(queued).resolves.toBeUndefined();
  });

  it('at most 64 of them; the rest go once WELCOME came', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false }));
    for (let i = 0; i < 100; i++) void client.channel(`c${i}`).subscribe().catch(() => {});
    await settle();
    const ws = net.sockets[0]!;
    ws.open();
    expect(ws.sent).toHaveLength(65);
    ws.push(welcome({ token: 'T' }));
    await settle();
    expect(seqs(ws.sent)).toEqual(Array.from({ length: 100 }, (_, i) => `subscribe ${i + 1}`));
  });
});

describe('frames behind the HELLO in the POST /session body (SSE)', () => {
  const seqs = (frames: ClientFrame[]) => frames.flatMap((f) => ('seq' in f ? [`${f.type} ${f.seq}`] : []));
  /** What a closed client rejects does not matter here. */
  const quiet = (p: Promise<unknown>) => void p.catch(() => {});

  it('the subscribes queued before the session existed go with its HELLO, sends after WELCOME; then only what its ack leaves out is posted', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, transports: ['sse'] }));
    quiet(client.channel('room').subscribe());
    quiet(client.channel('news').subscribe());
    quiet(client.send('x', 'a'));
    await settle();
    expect(net.requests.find((r) => r.path === '/session')?.headers['content-type']).toBe(NDJSON);
    expect(types(net.sessionBodies[0]!)).toEqual(['hello', 'subscribe', 'subscribe']);
    // The server had processed one of them when the stream attached.
    net.streams[0]!.push(welcome({ resumed: true, ack: 1 }));
    await settle();
    expect(seqs(net.posts.flat())).toEqual(['subscribe 2', 'send 3']);
  });

  it('at most 64, and only as many as keep the body within maxMessageBytes', async () => {
    const net = createNet();
    track(start(net, { adaptive: false, transports: ['sse'] })).client;
    const many = track(start(net, { adaptive: false, transports: ['sse'] })).client;
    for (let i = 0; i < 100; i++) quiet(many.channel(`c${i}`).subscribe());
    await settle();
    const sizes = net.sessionBodies.map((body) => body.length);
    expect(sizes).toEqual([1, 65]); // a HELLO alone for the client with nothing queued
    const net2 = createNet();
    const small = track(start(net2, { adaptive: false, transports: ['sse'], maxMessageBytes: 100 })).client;
    for (let i = 0; i < 3; i++) quiet(small.channel(`${i}`.repeat(40)).subscribe()); // 49 bytes each, the HELLO 12: one fits
    await settle();
    expect(types(net2.sessionBodies[0]!)).toEqual(['hello', 'subscribe']);
    expect(net2.requests.find((r) => r.path === '/session')?.headers['content-type']).toBe(NDJSON);
  });

  it('what did not fit the body never left: a gap without an ack sends it again, and only the body is told it may have run', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, transports: ['sse'], maxMessageBytes: 100, reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }));
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    const reads = ['a', 'b', 'c'].map((c) => client.channel(c.repeat(40)).presence().catch((e: unknown) => e)); // 48 bytes each: one fits
    net.sseStatus = 404;
    net.sseError = { error: { code: 'session_unknown', message: 'gone' } };
    await settle();
    expect(types(net.sessionBodies[0]!)).toEqual(['hello', 'presence']);
    expect(gaps).toEqual([{ code: 'session_unknown', message: 'gone', resent: 2, lost: 1 }]);
    await expect(reads[0]).resolves.toMatchObject({ code: 'session_lost' });
    net.sseStatus = 200;
    await settle(20);
    expect(net.sessionBodies[1]!.map((f) => ('seq' in f ? `${f.type} ${f.seq}` : f.type))).toEqual(['hello', 'presence 1']);
  });

  it('a session that ends before its stream came, after it took frames from the body, is a gap with the ack its end carries', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, transports: ['sse'], reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }));
    // The retry 5 ms after the gap: not within the first settle(), where the stream still fails
    // (full jitter would make it 0 ms one time in ten, and a second gap), but within settle(20).
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    quiet(client.channel('a').subscribe()); // processed: rebuilt in the new session
    quiet(client.channel('b').subscribe()); // not processed: sent again
    quiet(client.send('x', 1)); // never sent: it waited for the stream
    net.sseStatus = 410;
    net.sseError = { error: { code: 'session_closed', message: 'closed by the application', ack: 1 } };
    await settle();
    expect(types(net.sessionBodies[0]!)).toEqual(['hello', 'subscribe', 'subscribe']);
    expect(gaps).toEqual([{ code: 'session_closed', message: 'closed by the application', resent: 2, lost: 0 }]);
    net.sseStatus = 200;
    await settle(20);
    expect(net.sessionBodies[1]!.map((f) => ('seq' in f ? `${f.type} ${f.seq}` : f.type))).toEqual(['hello', 'subscribe 1', 'subscribe 2']);
  });

  it('a stream that fails after the body carried frames is retried as a resume of that session: no second session runs them again', async () => {
    const net = createNet();
    const { client, log } = track(start(net, { adaptive: false, transports: ['sse'], reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }));
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // one retry, 5 ms after: within settle(20), not settle()
    quiet(client.channel('a').subscribe());
    quiet(client.channel('b').subscribe());
    net.sseStatus = 502; // a proxy's answer: transport_failed, the session goes on
    await settle();
    expect(types(net.sessionBodies[0]!)).toEqual(['hello', 'subscribe', 'subscribe']);
    net.sseStatus = 200;
    await settle(20);
    expect(net.sessionBodies).toHaveLength(1);
    const retried = net.requests.filter((r) => r.path === '/sse').at(-1)!;
    expect(retried.headers).toMatchObject({ 'x-wirehop-session': 'S', 'x-wirehop-token': 'T', 'last-event-id': '0' });
    // A resume posts what is unacked beside its stream, to that session: the server drops what it has.
    const beside = net.requests.filter((r) => r.path === '/send');
    expect(beside.map((r) => r.headers['x-wirehop-session'])).toEqual(['S']);
    expect(seqs(net.posts.flat())).toEqual(['subscribe 1', 'subscribe 2']);
    net.streams.at(-1)!.push(welcome({ resumed: true, ack: 2 }));
    await settle();
    expect(seqs(net.posts.flat())).toEqual(['subscribe 1', 'subscribe 2']);
    expect(log).toContain('state connected session_created');
  });

  it('a session that ends before its stream came, with nothing in its body, is no gap: nothing was sent', async () => {
    const net = createNet();
    const { client, log } = track(start(net, { adaptive: false, transports: ['sse'], reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }));
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    net.sseStatus = 410;
    net.sseError = { error: { code: 'session_closed', message: 'closed', ack: 0 } };
    await settle();
    expect(types(net.sessionBodies[0]!)).toEqual(['hello']);
    expect(gaps).toEqual([]);
    expect(log).toContain('state connecting connect');
  });

  it('a resume sends no POST /session: nothing rides with it', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, transports: ['sse'], reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }));
    await settle();
    net.streams[0]!.push(welcome());
    await settle();
    quiet(client.send('x', 1));
    net.streams[0]!.push({ type: 'error', code: 'heartbeat_timeout', message: 'x' });
    await settle(20);
    expect(net.sessionBodies).toHaveLength(1);
    expect(net.streams).toHaveLength(2);
  });
});

describe('frames behind the HELLO of an SSE resume: a POST /send beside the GET /sse', () => {
  const seqs = (frames: ClientFrame[]) => frames.flatMap((f) => ('seq' in f ? [`${f.type} ${f.seq}`] : []));
  /** Connected on SSE with sends 1..n posted and acked up to `acked`, then the stream lost and `queued` more sent meanwhile. */
  async function resuming(n: number, acked: number, queued: number) {
    // The retry 5 ms after the loss (full jitter of 10 ms): after the queued sends, within settle(20).
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const net = createNet();
    const t = track(start(net, { adaptive: false, transports: ['sse'], reconnect: { initialDelayMs: 10, maxDelayMs: 10 } }));
    const gaps: unknown[] = [];
    t.client.on('gap', (g) => gaps.push(g));
    await settle();
    net.streams[0]!.push(welcome());
    await settle();
    net.serverAck = acked;
    const sent = Array.from({ length: n }, (_, i) => t.client.send('x', i + 1).catch((e: unknown) => e));
    await settle();
    net.streams[0]!.push({ type: 'error', code: 'heartbeat_timeout', message: 'silent' });
    await settle();
    for (let i = 0; i < queued; i++) sent.push(t.client.send('x', n + i + 1).catch((e: unknown) => e));
    return { net, ...t, gaps, sent };
  }

  it('goes out before the stream answers; its ack waits for WELCOME; WELCOME.ack below it sends nothing twice', async () => {
    const { net, client, sent } = await resuming(3, 1, 1);
    net.serverAck = 4;
    await settle(20);
    expect(net.streams).toHaveLength(2); // the resume's stream, which has said nothing yet
    expect(net.posts.map(seqs)).toEqual([['send 1', 'send 2', 'send 3'], ['send 2', 'send 3', 'send 4']]);
    const beside = net.requests.filter((r) => r.path === '/send').at(-1)!;
    expect(beside.headers).toMatchObject({ 'x-wirehop-session': 'S', 'x-wirehop-token': 'T' });
    // Its answer (ack 4) came before WELCOME: held, not a frame before WELCOME that drops the link.
    net.streams[1]!.push(welcome({ resumed: true, ack: 1 }));
    await settle();
    expect(client.state).toBe('connected');
    expect(net.streams).toHaveLength(2);
    expect(net.posts).toHaveLength(2);
    await expect(Promise.all(sent)).resolves.toEqual([undefined, undefined, undefined, undefined]);
  });

  it('what is sent after WELCOME waits for its answer: were it refused, its frames go again first', async () => {
    const { net, client, sent } = await resuming(0, 0, 2);
    let open!: (v: unknown) => void;
    net.sendGate = new Promise((r) => (open = r));
    await settle(20);
    net.streams[1]!.push(welcome({ resumed: true, ack: 0, posts: 4 })); // room for more POSTs, but not yet
    sent.push(client.send('x', 3).catch((e: unknown) => e));
    await settle();
    expect(net.posts.map(seqs)).toEqual([['send 1', 'send 2']]);
    net.refuseSends = 1;
    net.sendError = { error: { code: 'session_unknown', message: 'not on this node' } };
    net.serverAck = 3;
    open(undefined);
    await settle();
    expect(net.posts.map(seqs)).toEqual([['send 1', 'send 2'], ['send 1', 'send 2', 'send 3']]);
    await expect(Promise.all(sent)).resolves.toEqual([undefined, undefined, undefined]);
  });

  it('the rest of the outbox, beyond 64 frames, is posted once WELCOME came, before what is sent later', async () => {
    const { net, client } = await resuming(0, 0, 70);
    await settle(20);
    expect(net.posts.map((p) => p.length)).toEqual([64]);
    net.streams[1]!.push(welcome({ resumed: true, ack: 0 }));
    void client.send('x', 71).catch(() => {});
    await settle();
    expect(seqs(net.posts.flat())).toEqual(Array.from({ length: 71 }, (_, i) => `send ${i + 1}`));
  });

  it('refused, it applied nothing: after session_unknown, what never reached a session is sent again', async () => {
    const { net, gaps, sent } = await resuming(1, 0, 1);
    net.refuseSends = Infinity;
    net.sseStatus = 404;
    net.sendError = net.sseError = { error: { code: 'session_unknown', message: 'restarted' } };
    await settle(20);
    expect(net.posts.map(seqs).at(-1)).toEqual(['send 1', 'send 2']);
    // send 1 went on the lost stream's POST, whose answer said nothing of it: it may have run.
    expect(gaps).toEqual([{ code: 'session_unknown', message: 'restarted', resent: 1, lost: 1 }]);
    await expect(sent[0]).resolves.toMatchObject({ code: 'session_lost' });
    net.refuseSends = 0;
    net.sseStatus = 200;
    net.serverAck = 1;
    await settle(20);
    expect(net.sessionBodies.at(-1)!.map((f) => f.type)).toEqual(['hello']);
    net.streams.at(-1)!.push(welcome({ token: 'T2' }));
    await settle();
    expect(seqs(net.posts.at(-1)!)).toEqual(['send 1']);
    await expect(sent[1]).resolves.toBeUndefined();
  });

  it('refused beside a stream that resumes (another node got it), it is posted again after WELCOME: no gap, nothing lost', async () => {
    const { net, client, gaps, sent } = await resuming(1, 0, 1);
    net.refuseSends = Infinity;
    net.sendError = { error: { code: 'session_unknown', message: 'not on this node' } };
    await settle(20);
    expect(net.posts.map(seqs)).toEqual([['send 1'], ['send 1', 'send 2']]);
    net.refuseSends = 0;
    net.serverAck = 2;
    void client.send('x', 3).catch(() => {}); // waits behind them
    net.streams[1]!.push(welcome({ resumed: true, ack: 0 }));
    await settle();
    expect(net.posts.map(seqs).slice(2)).toEqual([['send 1', 'send 2', 'send 3']]);
    await expect(Promise.all(sent)).resolves.toEqual([undefined, undefined]);
    expect(gaps).toEqual([]);
    expect(client.state).toBe('connected');
  });

  it('a stream refused while that POST is out waits for its answer to know what the server applied', async () => {
    const { net, gaps } = await resuming(1, 0, 1);
    let open!: (v: unknown) => void;
    net.sendGate = new Promise((r) => (open = r));
    net.sseStatus = 404;
    net.sseError = { error: { code: 'session_unknown', message: 'restarted' } };
    await settle(20);
    expect(gaps).toEqual([]); // the stream's refusal waits
    net.refuseSends = Infinity;
    net.sendError = net.sseError;
    open(undefined);
    await settle();
    expect(gaps).toEqual([{ code: 'session_unknown', message: 'restarted', resent: 1, lost: 1 }]);
  });

  it('with no answer to that POST, what it carried may have run: the gap says so', async () => {
    const { net, gaps } = await resuming(1, 0, 1);
    net.sendGate = new Promise(() => {}); // never answered: the deadline for WELCOME ends the wait
    net.sseStatus = 404;
    net.sseError = { error: { code: 'session_unknown', message: 'restarted' } };
    await settle(20);
    expect(gaps).toEqual([]);
    await settle(30_000);
    expect(gaps).toEqual([]); // a deadline is no refusal: the session may live, and is resumed
    expect(net.streams).toHaveLength(1);
    net.sendGate = Promise.resolve();
    net.refuseSends = Infinity;
    net.sendError = net.sseError;
    await settle(30_000);
    expect(gaps).toEqual([{ code: 'session_unknown', message: 'restarted', resent: 0, lost: 2 }]);
  });

  it('a switch to SSE posts nothing beside its stream: the transport in use carries it all', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, transports: ['websocket', 'sse'] }));
    const ws = await onWebSocket(net, client);
    void client.send('x', 1).catch(() => {});
    await settle();
    const switched = client.switchTransport('sse');
    await settle();
    expect(net.posts).toEqual([]);
    net.streams[0]!.push(welcome({ resumed: true, ack: 0 }));
    await switched;
    expect(seqs(ws.sent)).toEqual(['send 1']);
    expect(seqs(net.posts.flat())).toEqual(['send 1']); // after WELCOME, from its ack
  });
});

describe('switching WebSocket → SSE', () => {
  it('resumes on SSE while WebSocket keeps delivering, then closes it as superseded: one ordered stream', async () => {
    const net = createNet();
    const { client, log, transports, messages } = track(start(net, { adaptive: false }));
    const ws = await onWebSocket(net, client);
    ws.push(message(1), message(2), message(3));
    const sent = [client.send('x', 'a')]; // seq 1, on WebSocket
    await settle(249); // the client's ack delay: 250 ms, plus up to half again
    expect(ws.sent.filter((f) => f.type === 'ack')).toEqual([]);
    await settle(126);
    expect(ws.sent.filter((f) => f.type === 'ack')).toEqual([{ type: 'ack', ack: 3 }]);

    const switched = client.switchTransport('sse');
    await settle();
    const sse = net.streams[0]!;
    expect(sse.headers).toMatchObject({ 'x-wirehop-session': 'S', 'x-wirehop-token': 'T', 'last-event-id': '3' });
    // The old link goes on delivering, and acking past the resume point: the server replays from
    // whichever is further, the resume point or its ack (protocol.md §6).
    ws.push(message(4), message(5));
    sent.push(client.send('x', 'b')); // seq 2, still on WebSocket
    await settle(400);
    expect(messages).toEqual([1, 2, 3, 4, 5]);
    expect(ws.sent.filter((f) => f.type === 'ack')).toEqual([
      { type: 'ack', ack: 3 },
      { type: 'ack', ack: 5 },
    ]);
    expect(client.transport).toBe('websocket');

    // The server attached SSE: WELCOME (it has client seq 1), then its replay; 4 and 5 again, had
    // the ack not arrived first.
    sse.push(welcome({ resumed: true, ack: 1 }), message(4), message(5), message(6));
    await settle();
    await switched;
    expect(ws.closed).toBe(4001);
    expect(client.transport).toBe('sse');
    expect(messages).toEqual([1, 2, 3, 4, 5, 6]);
    expect(transports.at(-1)).toMatchObject({ from: 'websocket', to: 'sse', reason: 'manual', quality: { samples: expect.any(Number) } });
    expect(client.stats.switches).toBe(1);
    // seq 2 resent from WELCOME.ack on the new link; the next ack goes out on SSE's slower ack
    // cadence (8 × 250 ms, plus up to half again), one ack for all delivered by then.
    await settle(3_000);
    const upstream = net.posts.flat();
    expect(upstream.filter((f) => f.type === 'send').map((f) => (f as { seq: number }).seq)).toEqual([2]);
    expect(upstream.filter((f) => f.type === 'ack')).toEqual([{ type: 'ack', ack: 6 }]);
    expect(net.requests.some((r) => r.method === 'DELETE')).toBe(false);
    expect(log).toEqual(['state connecting connect', 'transport null→websocket session_created', 'state connected session_created', 'transport websocket→sse manual']);
    for (const p of sent) p.catch(() => {}); // unacked: rejected when the client closes
  });

  it('the old link superseded before the new WELCOME is no reason to reconnect', async () => {
    const net = createNet();
    const { client, log } = track(start(net, { adaptive: false }));
    const ws = await onWebSocket(net, client);
    const switched = client.switchTransport('sse');
    await settle();
    ws.push({ type: 'error', code: 'superseded', message: 'another transport attached' });
    ws.drop(4001, 'superseded');
    await settle(1000);
    expect(client.state).toBe('connected');
    net.streams[0]!.push(welcome({ resumed: true }));
    await settle();
    await switched;
    expect(client.transport).toBe('sse');
    expect(client.stats.reconnects).toBe(0);
    expect(log.filter((l) => l.startsWith('state'))).toEqual(['state connecting connect', 'state connected session_created']);
  });

  it('a candidate that cannot be opened is dropped: the session stays, acks go on, the caller gets transport_failed', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false }));
    const ws = await onWebSocket(net, client);
    net.sseStatus = 502;
    const switched = client.switchTransport('sse').catch((e: unknown) => e);
    ws.push(message(1));
    await settle(100);
    expect(await switched).toMatchObject({ code: 'transport_failed' });
    expect(client.transport).toBe('websocket');
    expect(ws.closed).toBeUndefined();
    await settle(300); // the ack delay
    expect(ws.sent.filter((f) => f.type === 'ack')).toEqual([{ type: 'ack', ack: 1 }]);
  });

  it('the session ending while a switch waits is a gap, not a stuck switch', async () => {
    const net = createNet();
    const { client, log } = track(start(net, { adaptive: false, reconnect: { initialDelayMs: 1, maxDelayMs: 1 } }));
    const ws = await onWebSocket(net, client);
    const switched = client.switchTransport('sse');
    await settle();
    ws.push({ type: 'bye', code: 'session_closed', message: 'bye', ack: 0 });
    await expect(switched).rejects.toMatchObject({ code: 'transport_failed' });
    expect(net.streams[0]!.aborted).toBe(true);
    expect(log).toContain('state reconnecting session_closed');
  });
});

describe('switching SSE → WebSocket', () => {
  async function onSse(net: Net, options: Partial<ClientOptions> = {}) {
    const x = track(start(net, { adaptive: false, transports: ['sse', 'websocket'], ...options }));
    await settle();
    net.streams[0]!.push(welcome());
    await settle();
    expect(x.client.transport).toBe('sse');
    return x;
  }

  it('tests the socket with a PING first; HELLO only after its PONG; then the stream is aborted without DELETE', async () => {
    const net = createNet();
    const { client, transports } = await onSse(net);
    net.streams[0]!.push(message(1));
    const switched = client.switchTransport('websocket');
    await settle();
    const ws = net.sockets[0]!;
    ws.open();
    expect(types(ws.sent)).toEqual(['ping']);
    const { n } = ws.sent[0] as { n: number };
    ws.push({ type: 'pong', n });
    expect(ws.sent[1]).toEqual({ type: 'hello', v: PROTOCOL_VERSION, sid: 'S', token: 'T', ack: 1 });
    ws.push(welcome({ resumed: true, ack: 0 }));
    await settle();
    await switched;
    expect(client.transport).toBe('websocket');
    expect(net.streams[0]!.aborted).toBe(true);
    expect(net.requests.some((r) => r.method === 'DELETE')).toBe(false);
    expect(transports.at(-1)).toMatchObject({ from: 'sse', to: 'websocket', reason: 'manual' });
  });

  it('a socket that opens but stays silent is abandoned after pingTimeoutMs; the session stays on SSE', async () => {
    const net = createNet();
    const { client } = await onSse(net);
    const switched = client.switchTransport('websocket').catch((e: unknown) => e);
    await settle();
    net.sockets[0]!.open();
    await settle(999);
    expect(net.sockets[0]!.closed).toBeUndefined();
    await settle(1);
    expect(await switched).toMatchObject({ code: 'transport_failed', message: expect.stringContaining('no PONG within 1000 ms') });
    expect(net.sockets[0]!.closed).toBe(4502);
    expect(client.transport).toBe('sse');
    expect(net.streams[0]!.aborted).toBe(false);
  });

  it('a candidate refused after its HELLO leaves what the live link sent counted as sent: a gap later says it may have run', async () => {
    const net = createNet();
    const { client } = await onSse(net, { reconnect: { initialDelayMs: 10, maxDelayMs: 10 } });
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    const switched = client.switchTransport('websocket').catch((e: unknown) => e);
    await settle();
    const ws = net.sockets[0]!;
    ws.open();
    ws.push({ type: 'pong', n: (ws.sent[0] as { n: number }).n });
    expect(types(ws.sent)).toEqual(['ping', 'hello']);
    // While the candidate waits for its WELCOME, the stream carries the session: this send is posted.
    const maybe = client.send('x', 1).catch((e: unknown) => e);
    await settle();
    expect(net.posts.flat().map((f) => f.type)).toContain('send');
    ws.push({ type: 'error', code: 'server_draining', message: 'shutting down' });
    await settle();
    expect(await switched).toMatchObject({ code: 'transport_failed' });
    expect(client.transport).toBe('sse');
    // The server forgets the session: the send went out on SSE, unacked, so it may have run. Were the
    // refusal read as unsending it, the new session would run it a second time.
    net.streams[0]!.push({ type: 'bye', code: 'session_unknown', message: 'restarted', ack: 0 });
    await settle();
    expect(gaps).toEqual([{ code: 'session_unknown', message: 'restarted', resent: 0, lost: 1 }]);
    await expect(maybe).resolves.toMatchObject({ code: 'session_lost' });
  });

  it('a socket that never opens is abandoned after websocketTimeoutMs', async () => {
    const net = createNet();
    const { client } = await onSse(net, { adaptive: { websocketTimeoutMs: 700, probe: false } });
    const switched = client.switchTransport('websocket').catch((e: unknown) => e);
    await settle(700);
    expect(await switched).toMatchObject({ code: 'transport_failed', message: expect.stringContaining('no open socket within 700 ms') });
    expect(client.transport).toBe('sse');
  });
});

describe('when WebSocket cannot be used', () => {
  it('silent at connect: SSE after websocketTimeoutMs (fallback), then re-probed in the background with backoff', async () => {
    const net = createNet();
    const { client, transports } = track(start(net, { adaptive: { probe: false } }));
    await settle();
    net.sockets[0]!.open(); // upgraded, then nothing
    await settle(1500);
    expect(net.sockets[0]!.closed).toBe(4502);
    await settle();
    net.streams[0]!.push(welcome());
    await settle();
    expect(transports.at(-1)).toMatchObject({ from: null, to: 'sse', reason: 'fallback' });
    expect(client.transport).toBe('sse');

    // re-probe after 5 s: a socket that must answer PING
    await settle(4999);
    expect(net.sockets).toHaveLength(1);
    await settle(1);
    expect(net.sockets).toHaveLength(2);
    net.sockets[1]!.open();
    expect(types(net.sockets[1]!.sent)).toEqual(['ping']);
    await settle(1000); // no PONG: still unusable, next try in 10 s
    expect(net.sockets[1]!.closed).toBeDefined();
    await settle(9999);
    expect(net.sockets).toHaveLength(2);
    await settle(1);
    expect(net.sockets).toHaveLength(3);
    expect(client.transport).toBe('sse');
  });

  it('a blackholed WebSocket is declared dead by the heartbeat and the session resumes on SSE at once', async () => {
    const net = createNet();
    // A long reconnect backoff: moving to SSE must not wait for it (the path that died was WebSocket).
    const { client, transports } = track(start(net, { adaptive: { probe: false }, reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 } }));
    await settle();
    const ws = net.sockets[0]!;
    ws.open();
    ws.push(welcome({ token: 'T', heartbeatMs: 1000, heartbeatTimeoutMs: 500 }));
    ws.push(message(1));
    await settle(1500); // silence
    expect(ws.closed).toBe(4002);
    await settle(1);
    expect(net.sockets).toHaveLength(1); // not WebSocket again
    expect(net.streams[0]!.headers).toMatchObject({ 'last-event-id': '1' });
    net.streams[0]!.push(welcome({ resumed: true, ack: 0 }));
    await settle();
    expect(transports.slice(-2)).toMatchObject([
      { from: 'websocket', to: null, reason: 'heartbeat_timeout' },
      { from: null, to: 'sse', reason: 'websocket_unusable' },
    ]);
    expect(client.sessionId).toBe('S');
  });

  it('a heartbeat that runs late (a process too busy, a machine that slept) reads what came in before it declares the link dead', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false }));
    await settle();
    const ws = net.sockets[0]!;
    ws.open();
    ws.push(welcome({ token: 'T', heartbeatMs: 1000, heartbeatTimeoutMs: 500 }));
    await settle(999); // the heartbeat's next look is due in 1 ms (a PING)
    vi.setSystemTime(Date.now() + 1000); // the clock moves on while no timer runs
    await vi.advanceTimersToNextTimerAsync(); // it runs with 2,000 ms of silence behind it: late
    expect(ws.closed).toBeUndefined(); // one more task first, for what has come in
    ws.push(message(1));
    await settle(1);
    expect(ws.closed).toBeUndefined();
    expect(client.state).toBe('connected');
    // Nothing waiting: a late heartbeat drops the link one task later.
    await settle(1000);
    vi.setSystemTime(Date.now() + 1000);
    await vi.advanceTimersToNextTimerAsync();
    expect(ws.closed).toBeUndefined();
    await vi.advanceTimersToNextTimerAsync();
    expect(ws.closed).toBe(4002);
  });
});

describe('quality and the probe', () => {
  /** A started client whose first WebSocket gets its WELCOME `ms` after HELLO, `held` ms of them in the server. */
  async function welcomedAfter(ms: number, held: number) {
    const net = createNet();
    const { client, transports } = track(start(net));
    await settle();
    const ws = net.sockets[0]!;
    ws.open();
    await settle(ms);
    ws.push(welcome({ token: 'T', held }));
    await settle();
    return { net, client, transports, ws };
  }

  /** The PINGs a socket sent, by `n`. */
  const pingsOf = (ws: { sent: ClientFrame[] }) => ws.sent.flatMap((f) => (f.type === 'ping' ? [f.n] : []));

  it('opens the first transport at once, with no request before it; a fast first PING answer ends the probe', async () => {
    const net = createNet();
    const { client, transports } = track(start(net));
    await settle();
    expect(net.sockets).toHaveLength(1);
    expect(net.requests).toEqual([]);
    const ws = await onWebSocket(net, client);
    expect(types(ws.sent)).toEqual(['hello', 'ping']); // the probe's first sample leaves as the session attaches
    await settle(10);
    ws.push({ type: 'pong', n: pingsOf(ws)[0]! });
    await settle(500);
    expect(types(ws.sent)).toEqual(['hello', 'ping']); // 10 ms: nothing more to learn
    expect(transports).toMatchObject([{ from: null, to: 'websocket', reason: 'session_created' }]);
    expect(net.requests).toEqual([]);
  });

  it('a WELCOME that says how long the server held the HELLO is the first sample, with no PING for it', async () => {
    const { client, transports, ws } = await welcomedAfter(30, 20); // 20 of the 30 ms in the server
    expect(types(ws.sent)).toEqual(['hello']);
    expect(client.stats.rtt).toBe(10);
    await settle(999);
    expect(types(ws.sent)).toEqual(['hello']); // the next PING is the regular one
    await settle(1);
    expect(types(ws.sent)).toEqual(['hello', 'ping']);
    expect(transports).toMatchObject([{ to: 'websocket', reason: 'session_created' }]);
  });

  it('a slow WELCOME moves the session to SSE at once, however long the server held the HELLO', async () => {
    const { net, client, transports, ws } = await welcomedAfter(900, 500); // 400 ms on the wire
    expect(types(ws.sent)).toEqual(['hello', 'ping']); // the probe's next sample
    net.streams[0]!.push(welcome({ resumed: true }));
    await settle();
    expect(client.transport).toBe('sse');
    expect(transports.at(-1)).toMatchObject({ from: 'websocket', to: 'sse', reason: 'probe' });
  });

  it('a slow first PING answer moves the session to SSE at once; the next samples follow back to back', async () => {
    const net = createNet();
    const { client, transports } = track(start(net));
    const ws = await onWebSocket(net, client);
    await settle(400);
    ws.push({ type: 'pong', n: pingsOf(ws)[0]! }); // 400 ms > maxRttMs
    await settle();
    expect(pingsOf(ws)).toHaveLength(2); // the next sample, at once
    const sse = net.streams[0]!;
    expect(sse.headers).toMatchObject({ 'x-wirehop-session': 'S', 'last-event-id': '0' });
    sse.push(welcome({ resumed: true }));
    await settle();
    expect(client.transport).toBe('sse');
    expect(ws.closed).toBe(4001);
    expect(transports.at(-1)).toMatchObject({ from: 'websocket', to: 'sse', reason: 'probe' });
    expect(net.requests.some((r) => r.path === '/ping')).toBe(false);
  });

  it('a lost first PING moves it too, and one lost of three keeps it there', async () => {
    const net = createNet();
    const { client, transports } = track(start(net));
    const ws = await onWebSocket(net, client);
    await settle(1000); // no PONG within pingTimeoutMs: lost; the next PING leaves at once
    expect(pingsOf(ws)).toHaveLength(2);
    net.streams[0]!.push(welcome({ resumed: true }));
    await settle();
    expect(transports.at(-1)).toMatchObject({ from: 'websocket', to: 'sse', reason: 'probe' });
    // On SSE the samples ride POSTs, answered at once here: 0 and 0 ms, but a third lost is bad.
    // (Within upgradeAfterMs: the policy's own move back is another matter.)
    await settle(3000);
    expect(net.posts.flat().filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(net.sockets).toHaveLength(1);
    expect(client.transport).toBe('sse');
  });

  it('once complete, a probe that disagrees with its first sample moves the session back', async () => {
    const net = createNet();
    const { client, transports } = track(start(net));
    const ws = await onWebSocket(net, client);
    await settle(400);
    ws.push({ type: 'pong', n: pingsOf(ws)[0]! }); // 400 ms
    await settle();
    net.streams[0]!.push(welcome({ resumed: true }));
    await settle(); // on SSE: two samples at once, 0 ms each; the median of the three is 0
    const candidate = net.sockets[1]!;
    candidate.open();
    candidate.push({ type: 'pong', n: (candidate.sent[0] as { n: number }).n }, welcome({ resumed: true }));
    await settle();
    expect(client.transport).toBe('websocket');
    expect(transports.slice(1)).toMatchObject([
      { from: 'websocket', to: 'sse', reason: 'probe' },
      { from: 'sse', to: 'websocket', reason: 'probe' },
    ]);
  });

  it('PINGs every sampleIntervalMs; unanswered ones count as lost in stats', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: { probe: false, sampleIntervalMs: 500 } }));
    const ws = await onWebSocket(net, client);
    await settle(1600);
    const pings = ws.sent.filter((f) => f.type === 'ping') as Array<{ n: number }>;
    expect(pings).toHaveLength(4); // 0, 500, 1000, 1500
    ws.push({ type: 'pong', n: pings[0]!.n }); // 1600 ms late: lost all the same
    ws.push({ type: 'pong', n: pings[3]!.n }); // 100 ms
    expect(client.stats).toMatchObject({ rtt: 100, loss: 2 / 3 }); // the PING at 1000 may still be answered
    await settle(400);
    expect(client.stats).toMatchObject({ rtt: 100, loss: 3 / 4 });
  });

  it('a steady link is sampled every steadySampleIntervalMs; a slow answer brings the PING every second back', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: { probe: false } }));
    const ws = await onWebSocket(net, client);
    const at: number[] = [];
    const t0 = Date.now();
    let slow = false;
    // Answers every PING at once (260 ms later while `slow`), for `ms` of time, noting when each left.
    const answer = async (ms: number) => {
      for (let t = 0; t < ms; t += 10) {
        for (const n of pingsOf(ws).slice(at.length)) {
          at.push(n - t0);
          if (slow) setTimeout(() => ws.push({ type: 'pong', n }), 260);
          else ws.push({ type: 'pong', n });
        }
        await settle(10);
      }
    };
    await answer(20_000);
    // At attach (no WELCOME sample here), then every second until a whole window was good (the
    // one that left at 0 s and those after it), then every 5 s.
    expect(at).toEqual([0, 1000, 2000, 3000, 4000, 9000, 14_000, 19_000]);
    slow = true; // 260 ms: not good (above 80 % of maxRttMs), and the steadiness ends
    await answer(7000);
    expect(at.slice(8)).toEqual([24_000, 25_000, 26_000]);
    expect(client.transport).toBe('websocket'); // not bad either: no switch
    expect(client.stats.switches).toBe(0);
  });

  it('without the adaptive policy no PING goes at attach: the first one waits a heartbeat period', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, heartbeatMs: 1000 }));
    const ws = await onWebSocket(net, client);
    await settle(999);
    expect(ws.sent.filter((f) => f.type === 'ping')).toEqual([]);
    expect(client.stats.rtt).toBeNull();
    await settle(1);
    const pings = ws.sent.filter((f) => f.type === 'ping') as Array<{ n: number }>;
    expect(pings).toHaveLength(1);
    await settle(40);
    ws.push({ type: 'pong', n: pings[0]!.n });
    expect(client.stats.rtt).toBe(40);
  });
});

describe('network hints: online, offline, visibilitychange', () => {
  /** A fake window and document, installed as the globals the client feature-detects. */
  function browser() {
    const win = new EventTarget();
    const page = new EventTarget();
    let listeners = 0;
    const on = (target: EventTarget) => (type: string, l: () => void) => (listeners++, target.addEventListener(type, l));
    const off = (target: EventTarget) => (type: string, l: () => void) => (listeners--, target.removeEventListener(type, l));
    const doc = { visibilityState: 'visible', addEventListener: on(page), removeEventListener: off(page) };
    vi.stubGlobal('addEventListener', on(win));
    vi.stubGlobal('removeEventListener', off(win));
    vi.stubGlobal('document', doc);
    const visibility = (state: string) => ((doc.visibilityState = state), page.dispatchEvent(new Event('visibilitychange')));
    return {
      fire: (type: 'online' | 'offline') => win.dispatchEvent(new Event(type)),
      hide: () => visibility('hidden'),
      show: () => visibility('visible'),
      get listeners() {
        return listeners;
      },
    };
  }
  afterEach(() => void vi.unstubAllGlobals());

  const lastSent = (ws: { sent: ClientFrame[] }) => ws.sent.at(-1)!;

  it('offline: the link is checked at once and stays if it answers', async () => {
    const env = browser();
    const net = createNet();
    const { client } = track(start(net, { adaptive: false }));
    const ws = await onWebSocket(net, client);
    await settle(100);
    const before = ws.sent.length;
    env.fire('offline');
    expect(ws.sent.length).toBe(before + 1);
    expect(lastSent(ws)).toMatchObject({ type: 'ping' });
    ws.push({ type: 'pong', n: (lastSent(ws) as { n: number }).n });
    await settle(5000);
    expect(client.state).toBe('connected');
    expect(ws.closed).toBeUndefined();
  });

  it('offline, in a process too busy to run the check on time: a PONG waiting to be read keeps the link', async () => {
    const env = browser();
    const net = createNet();
    const { client } = track(start(net, { adaptive: false }));
    const ws = await onWebSocket(net, client);
    env.fire('offline');
    const ping = lastSent(ws) as { n: number };
    vi.setSystemTime(Date.now() + 500); // the clock moves on while no timer runs: they all fire late
    await settle(1000);
    expect(ws.closed).toBeUndefined(); // late: one more task first, for what has come in
    ws.push({ type: 'pong', n: ping.n });
    await settle(5000);
    expect(client.state).toBe('connected');
    expect(ws.closed).toBeUndefined();
    // Nothing waiting: the late check drops the link one task later.
    env.fire('offline');
    vi.setSystemTime(Date.now() + 500);
    await settle(1001);
    expect(ws.closed).toBe(4502);
  });

  it('offline: a silent link is dropped after pingTimeoutMs; no retry until online, then one at once', async () => {
    const env = browser();
    const net = createNet();
    const { client, log } = track(start(net, { adaptive: false, reconnect: { initialDelayMs: 100, maxDelayMs: 30_000 } }));
    const ws = await onWebSocket(net, client);
    env.fire('offline');
    await settle(999);
    expect(client.state).toBe('connected');
    await settle(1);
    expect(ws.closed).toBe(4502);
    expect(log.at(-1)).toBe('state reconnecting transport_failed');
    await settle(20_000); // the backoff would have retried many times by now
    expect(net.sockets).toHaveLength(1);
    env.fire('online');
    await settle();
    expect(net.sockets).toHaveLength(2);
    net.sockets[1]!.open();
    expect(net.sockets[1]!.sent[0]).toMatchObject({ type: 'hello', sid: 'S', token: 'T' });
    net.sockets[1]!.push(welcome({ resumed: true }));
    await settle();
    expect(client.state).toBe('connected');
  });

  it('offline: a retry already scheduled waits too, but never longer than maxDelayMs', async () => {
    const env = browser();
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, transports: ['websocket'], reconnect: { initialDelayMs: 100, maxDelayMs: 8000 } }));
    const ws = await onWebSocket(net, client);
    ws.drop(1006);
    env.fire('offline');
    await settle(7999);
    expect(net.sockets).toHaveLength(1);
    await settle(1); // the browser may be wrong about being offline: try now and then all the same
    expect(net.sockets).toHaveLength(2);
  });

  it('online while connected: the link is checked, and its PING starts the probe again', async () => {
    const env = browser();
    const net = createNet();
    const { client, transports } = track(start(net));
    const ws = await onWebSocket(net, client);
    ws.push({ type: 'pong', n: (ws.sent.at(-1) as { n: number }).n }); // the probe at connect: 0 ms, over
    await settle(3000);
    for (const f of ws.sent.slice(2)) if (f.type === 'ping') ws.push({ type: 'pong', n: f.n });
    const sent = ws.sent.length;
    env.fire('online');
    await settle();
    expect(ws.sent.slice(sent).map((f) => f.type)).toEqual(['ping']);
    await settle(400);
    ws.push({ type: 'pong', n: (ws.sent.at(-1) as { n: number }).n }); // 400 ms: the new network is slow
    await settle();
    expect(net.streams).toHaveLength(1); // moved at once, not after downgradeAfterMs
    net.streams[0]!.push(welcome({ resumed: true }));
    await settle();
    expect(transports.at(-1)).toMatchObject({ from: 'websocket', to: 'sse', reason: 'probe' });
    expect(net.requests.some((r) => r.path === '/ping')).toBe(false);
  });

  it('visible after hidden: an immediate PING; a link that died meanwhile is resumed', async () => {
    const env = browser();
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, reconnect: { initialDelayMs: 100, maxDelayMs: 100 } }));
    const ws = await onWebSocket(net, client);
    env.hide();
    await settle(100);
    const sent = ws.sent.length;
    env.show();
    expect(ws.sent.slice(sent).map((f) => f.type)).toEqual(['ping']);
    await settle(1000);
    expect(ws.closed).toBe(4502);
    await settle(100);
    expect(net.sockets).toHaveLength(2);
  });

  it('on SSE the PONG comes in the POST answer, which counts as an answer', async () => {
    const env = browser();
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, transports: ['sse'] }));
    await settle();
    net.streams[0]!.push(welcome());
    await settle();
    env.hide();
    env.show();
    await settle(5000);
    expect(net.posts.flat().filter((f) => f.type === 'ping')).toHaveLength(1); // the check's: none at attach, the next at 15 s
    expect(client.state).toBe('connected');
    expect(net.streams[0]!.aborted).toBe(false);
  });

  it('on SSE an ack rides on a message POST once 32 frames wait, and alone waits 2–3 s, not 50 ms', async () => {
    const net = createNet();
    const { client } = track(start(net, { adaptive: false, transports: ['sse'] }));
    await settle();
    const stream = net.streams[0]!;
    const acks = () => net.posts.flatMap((body) => body.filter((f) => f.type === 'ack'));
    stream.push(welcome(), ...Array.from({ length: 31 }, (_, i) => message(i + 1)));
    await settle(1_900);
    expect(acks()).toEqual([]); // not yet: the lone ack still waits
    const sent = [client.send('x', 'a')];
    await settle();
    // 31 waiting: fewer than an ack on WebSocket would wait for, so the POST carries the message alone.
    expect(net.posts.at(-1)).toEqual([expect.objectContaining({ type: 'send', seq: 1 })]);
    stream.push(message(32));
    await settle();
    sent.push(client.send('x', 'b'));
    await settle();
    // 32 waiting: the message's POST takes the ack along.
    expect(net.posts.at(-1)).toEqual([expect.objectContaining({ type: 'send', seq: 2 }), { type: 'ack', ack: 32 }]);
    stream.push(message(33));
    await settle(1_999);
    expect(acks()).toEqual([{ type: 'ack', ack: 32 }]);
    await settle(1_001);
    expect(acks()).toEqual([{ type: 'ack', ack: 32 }, { type: 'ack', ack: 33 }]);
    for (const p of sent) p.catch(() => {}); // unacked: rejected when the client closes
  });

  it('listens only once connecting, and stops when closed', async () => {
    const env = browser();
    const net = createNet();
    const { client } = start(net, { autoConnect: false });
    expect(env.listeners).toBe(0);
    void client.connect().catch(() => {});
    expect(env.listeners).toBe(3);
    client.close();
    expect(env.listeners).toBe(0);
  });
});
