/**
 * The client: connection lifecycle (connect, fall back to the next transport, reconnect with
 * backoff, resume, heartbeat watchdog) around one Session, and the public API. One setState emits
 * every state change with its reason; each transport attempt gets a generation number, and
 * callbacks from an older generation are ignored.
 */
import {
  Defaults,
  ErrorCodes,
  FrameCode,
  WirehopError,
  encodeFrame,
  encodeWithTail,
  isErrorCode,
  type Json,
  type ServerFrame,
  type ServerReliableFrame,
  type WelcomeFrame,
} from '@wirehop/protocol';
import { backoff } from './backoff.js';
import { createChannel, type ChannelCore, type ChannelHost } from './channel.js';
import { createEmitter } from './emitter.js';
import { beat, smoothRtt } from './heartbeat.js';
import { promiseReply, type Reply } from './requests.js';
import { Session, checkName, item } from './session.js';
import { sse } from './transports/sse.js';
import { asWirehopError, type Transport, type TransportFactory } from './transports/transport.js';
import { websocket } from './transports/websocket.js';
import type { Channel, ChannelEvents, ClientOptions, ClientState, Schema, TransportName, WirehopClient } from './types.js';

const FACTORIES: Record<TransportName, TransportFactory> = { websocket, sse };

type Timer = ReturnType<typeof setTimeout> | undefined;

/**
 * Creates a client. It connects on its own (after the current tick) unless `autoConnect: false`.
 * @example
 * const client = createClient({ url: 'https://example.com/wirehop' });
 * const room = client.channel('room:1');
 * room.on('message', (m) => console.log(m));
 * await room.subscribe();
 * await room.publish('message', { text: 'hi' });
 */
export function createClient<S extends Schema = Schema>(options: ClientOptions): WirehopClient<S> {
  const location = (globalThis as { location?: { href: string } }).location;
  const url = new URL(options.url, location?.href);
  if (!/^https?:$/.test(url.protocol)) throw new TypeError(`wirehop: url must be an http(s) URL, got ${options.url}`);
  const base = url.href.replace(/\/+$/, '');
  const order = options.transports ?? ['websocket', 'sse'];
  if (!order.length || order.some((t) => t !== 'websocket' && t !== 'sse')) throw new TypeError(`wirehop: transports must list 'websocket' and/or 'sse', got ${JSON.stringify(order)}`);
  const ackEvery = options.ackEvery ?? Defaults.ackEvery;
  const ackDelayMs = options.ackDelayMs ?? Defaults.ackDelayMs;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const initialDelayMs = options.reconnect?.initialDelayMs ?? 250;
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 10_000;
  const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));

  const sess = new Session({ maxQueue: options.maxQueue ?? Defaults.maxQueue, maxMessageBytes: options.maxMessageBytes ?? Defaults.maxMessageBytes });
  // A throwing 'error' listener has nowhere else to go but the console.
  const events = createEmitter((error, event) => (event === 'error' ? console.error(error) : report(error, `'${event}' listener`)));
  const channels = new Map<string, ChannelCore>();
  const waiters: Reply[] = [];

  let state: ClientState = 'idle';
  /**
   * The transport carrying (or trying to carry) the session. Switching mid-session later needs no
   * new machinery: open a second one with sess.hello() (a resume) bound to its own generation; on
   * its WELCOME make it `tp`, flush from WELCOME.ack (frames both carry are dropped as duplicates
   * on either side), and close the old one with an error, which drops it without ending the session.
   */
  let tp: Transport | undefined;
  /** Its name once WELCOME arrived on it; null while not attached. */
  let active: TransportName | null = null;
  /** Generation of `tp`: bumped by every new attempt and every drop. */
  let gen = 0;
  /** Index in `order` of the transport to try, and where the current round of attempts began. */
  let ti = 0;
  let roundStart = 0;
  let attempt = 0;
  let rtt: number | null = null;
  let reconnects = 0;
  let everConnected = false;
  let retryTimer: Timer, connectTimer: Timer, beatTimer: Timer, ackTimer: Timer;
  let lastSeen = 0;
  let nextPing = 0;
  let deadAfter = 0;
  let pingEvery = 0;

  /** An error nobody awaits becomes an 'error' event: a WirehopError as is, anything else a listener threw as handler_error. */
  function report(error: unknown, where: string) {
    events.emit('error', error instanceof WirehopError ? error : new WirehopError('handler_error', `${where} threw: ${(error as Error)?.message ?? String(error)}`, { error }));
  }

  function setState(to: ClientState, reason: string) {
    if (state === to || state === 'closed') return;
    const from = state;
    state = to;
    events.emit('state', { from, to, reason });
  }

  function setTransport(to: TransportName | null, reason: string) {
    if (active === to) return;
    const from = active;
    active = to;
    events.emit('transport', { from, to, reason });
  }

  function start() {
    if (state !== 'idle') return;
    setState('connecting', 'connect');
    void open();
  }

  /** Opens the transport `order[ti]` for the session (new or resumed). */
  async function open() {
    clearTimeout(retryTimer);
    if (state === 'closed') return;
    const g = ++gen;
    const name = order[ti]!;
    try {
      const auth = sess.sid ? undefined : typeof options.auth === 'function' ? await options.auth() : options.auth;
      if (g !== gen) return; // closed or dropped while auth was computed
      const headers = (typeof options.headers === 'function' ? options.headers() : options.headers) ?? {};
      connectTimer = setTimeout(() => drop(new WirehopError('transport_failed', `${name}: no WELCOME within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      tp = FACTORIES[name](
        { url: base, hello: sess.hello(auth as Json | undefined), headers, WebSocket: options.WebSocket ?? globalThis.WebSocket, fetch: fetchFn, maxMessageBytes: sess.maxMessageBytes },
        {
          frame: (f) => g === gen && guard(f),
          alive: () => void (g === gen && (lastSeen = Date.now())),
          close: (error) => g === gen && drop(error),
        },
      );
    } catch (error) {
      if (g === gen) drop(asWirehopError(error));
    }
  }

  /** Our own bug while handling a frame must not kill the client: drop the transport instead. */
  function guard(frame: ServerFrame) {
    try {
      onFrame(frame);
    } catch (error) {
      drop(new WirehopError('internal', `client failed on a ${frame.type} frame: ${(error as Error)?.message}`, { error }));
    }
  }

  function stopTimers() {
    clearTimeout(connectTimer);
    clearTimeout(beatTimer);
    clearTimeout(ackTimer);
    ackTimer = undefined;
  }

  /** The current transport failed (or was told to stop): end it, then resume, fall back, or gap. */
  function drop(error: WirehopError) {
    const welcomed = active !== null;
    gen++;
    const t = tp;
    tp = undefined;
    t?.close(error);
    stopTimers();
    setTransport(null, error.code);
    if (state === 'closed') return;
    if (sess.sid && isErrorCode(error.code) && ErrorCodes[error.code].endsSession) return gap(error);
    if (welcomed) {
      roundStart = ti;
      setState('reconnecting', error.code);
    }
    events.emit('error', error);
    if (!welcomed) {
      // Could not connect: try the next transport at once, until a whole round has failed.
      ti = (ti + 1) % order.length;
      if (ti !== roundStart) return void open();
    }
    retry();
  }

  function retry() {
    if (state !== 'closed') retryTimer = setTimeout(open, backoff(attempt++, initialDelayMs, maxDelayMs));
  }

  /** The session is gone (protocol.md §3): report a gap, move everything into a new session. */
  function gap(error: WirehopError) {
    // A server that does not know the session (it restarted, or forgot it long ago) cannot know how
    // far it got: its BYE says ack 0, which must not be read as "nothing was processed".
    const ack = error.code === 'session_unknown' ? undefined : error.detail?.ack;
    for (const c of channels.values()) c.reset();
    const { resent, lost } = sess.rebase(typeof ack === 'number' ? ack : undefined, channels.values());
    setState('reconnecting', error.code);
    events.emit('gap', { code: error.code, message: error.message, resent, lost });
    retry();
  }

  function onFrame(f: ServerFrame) {
    switch (f.type) {
      case 'welcome':
        return active ? undefined : welcome(f);
      case 'bye':
        return drop(new WirehopError(f.code, f.message, { ack: f.ack }));
      case 'error':
        return drop(new WirehopError(f.code, f.message));
    }
    if (!active) return drop(new WirehopError('bad_frame', `${f.type} frame before WELCOME`));
    switch (f.type) {
      case 'ack':
        if (!sess.ack(f.ack)) drop(new WirehopError('bad_ack', `ack ${f.ack} names a frame never sent (last ${sess.out.lastSeq})`));
        return;
      case 'ping':
        return tp!.send([encodeFrame({ type: 'pong', n: f.n })]);
      case 'pong': {
        const sample = Date.now() - f.n;
        if (sample >= 0 && sample <= deadAfter) rtt = smoothRtt(rtt, sample);
        return;
      }
    }
    const verdict = sess.in.accept(f.seq);
    if (verdict === 'gap') return drop(new WirehopError('out_of_order', `expected server frame ${sess.in.last + 1}, got ${f.seq}`));
    if (verdict === 'duplicate') return;
    deliver(f);
    if (!active) return; // a listener closed the client
    if (sess.in.unacked >= ackEvery) sendAck();
    else ackTimer ??= setTimeout(sendAck, ackDelayMs);
  }

  function deliver(f: ServerReliableFrame) {
    switch (f.type) {
      case 'event':
        return channels.get(f.channel)?.dispatch(f.event, f.data);
      case 'message':
        return events.emit('message', f.event, f.data);
      case 'reply':
        return sess.answer(f.re, f.data);
      case 'replyError':
        return sess.answer(f.re, undefined, new WirehopError(f.code, f.message));
      default:
        return channels.get(f.channel)?.presenceEvent(f.type, f.member);
    }
  }

  function sendAck() {
    clearTimeout(ackTimer);
    ackTimer = undefined;
    if (active && sess.in.unacked > 0) tp!.send([encodeFrame({ type: 'ack', ack: sess.in.takeAck() })]);
  }

  function welcome(w: WelcomeFrame) {
    const created = !sess.sid;
    const refused = sess.attach(w);
    if (refused) return drop(refused);
    const g = gen;
    clearTimeout(connectTimer);
    attempt = 0;
    roundStart = ti;
    if (everConnected) reconnects++;
    everConnected = true;
    // A heartbeat of 0 would mean "never": no watchdog, no pings.
    deadAfter = w.heartbeatMs > 0 ? w.heartbeatMs + w.heartbeatTimeoutMs : Infinity;
    // Never slower than the server's period: on SSE our PINGs are how the server knows we are alive.
    pingEvery = Math.min(options.heartbeatMs || Infinity, w.heartbeatMs || Infinity);
    lastSeen = nextPing = Date.now(); // the first PING goes at once: an RTT sample right away
    tp!.send(sess.frames(w.ack));
    const reason = created ? 'session_created' : 'session_resumed';
    setTransport(order[ti]!, reason);
    setState('connected', reason);
    for (const r of waiters.splice(0)) r.ok(undefined);
    if (g === gen) tick();
  }

  /** Heartbeat: PING on schedule, and declare the transport dead after too long a silence. */
  function tick() {
    const now = Date.now();
    const b = beat(now, lastSeen, nextPing, deadAfter, pingEvery);
    if (b.dead) return drop(new WirehopError('heartbeat_timeout', `nothing received for ${deadAfter} ms`));
    if (b.ping) {
      nextPing = now + pingEvery;
      tp!.send([encodeFrame({ type: 'ping', n: now })]);
    }
    beatTimer = setTimeout(tick, b.wait);
  }

  /** Queues a reliable frame; sends it at once if attached. Failures settle `reply`, never throw. */
  function enqueue(code: FrameCode, fields: unknown[], reply: Reply, ch?: string) {
    if (state === 'closed') return reply.fail(new WirehopError('client_closed'));
    let it;
    try {
      it = item(code, fields, reply, ch);
    } catch (error) {
      return reply.fail(asWirehopError(error, 'bad_frame'));
    }
    const seq = sess.push(it);
    if (typeof seq !== 'number') return reply.fail(seq);
    if (active) tp!.send([encodeWithTail(code, seq, it.tail)]);
  }

  /** Queues a frame; the promise settles on the server's answer (or, for `send`, its ack). */
  function call<T>(code: FrameCode, fields: unknown[], timeoutMs = 0): Promise<T> {
    const [reply, promise] = promiseReply<T>(timeoutMs, () => sess.forget(reply));
    enqueue(code, fields, reply);
    return promise;
  }

  /** call() for send and request, after their name was checked. */
  function named<T>(code: FrameCode, kind: 'event' | 'method', name: string, data: unknown, timeoutMs?: number): Promise<T> {
    const bad = checkName(kind, name);
    return bad ? Promise.reject(bad) : call<T>(code, [name, data ?? null], timeoutMs);
  }

  const host: ChannelHost = { enqueue, call, requestTimeoutMs: options.requestTimeoutMs ?? Defaults.requestTimeoutMs, report };

  const client: WirehopClient<S> = {
    get state() {
      return state;
    },
    get transport() {
      return active;
    },
    get sessionId() {
      return sess.sid;
    },
    get stats() {
      return { rtt, queued: sess.out.size, reconnects, transport: active };
    },
    connect() {
      if (state === 'closed') return Promise.reject(new WirehopError('client_closed'));
      if (state === 'connected') return Promise.resolve();
      const [reply, promise] = promiseReply<void>();
      waiters.push(reply);
      start();
      return promise;
    },
    close() {
      if (state === 'closed') return;
      gen++;
      tp?.close();
      tp = undefined;
      stopTimers();
      clearTimeout(retryTimer);
      const error = new WirehopError('client_closed');
      sess.close(error);
      for (const r of waiters.splice(0)) r.fail(error);
      setTransport(null, 'client_closed');
      setState('closed', 'client_closed');
    },
    channel<N extends string>(name: N) {
      let c = channels.get(name);
      if (!c) {
        const bad = checkName('channel', name);
        if (bad) throw bad;
        channels.set(name, (c = createChannel(name, host)));
      }
      return c as unknown as Channel<ChannelEvents<S, N>>;
    },
    request(method, data, opts) {
      return named(FrameCode.request, 'method', method, data, opts?.timeoutMs ?? host.requestTimeoutMs);
    },
    send(event, data) {
      return named(FrameCode.send, 'event', event, data);
    },
    on(event: string, listener: (...args: never[]) => unknown) {
      return events.on(event, listener);
    },
  };
  if (options.autoConnect ?? true) queueMicrotask(start);
  return client;
}
