/**
 * The client's public API: options, channels, the outbox calls (subscribe, publish, send,
 * request) and the delivery of server frames to them. The connection lifecycle (connect, fall
 * back, resume, switch transports) is connection.ts; the session bookkeeping is session.ts.
 */
import { Defaults, FrameCode, WirehopError, encodeWithTail, type ServerReliableFrame } from '@wirehop/protocol';
import { createChannel, type ChannelCore, type ChannelHost } from './channel.js';
import { clientClosed, createConnection } from './connection.js';
import { createEmitter } from './emitter.js';
import { fetchHttp, type Http } from './http.js';
import { promiseReply, type Reply } from './requests.js';
import { Session, checkName, item } from './session.js';
import { asWirehopError } from './transports/transport.js';
import type { Channel, ChannelEvents, ClientOptions, Schema, WirehopClient } from './types.js';

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
  return createClientOn<S>(options);
}

/**
 * {@link createClient} with the HTTP client to use when `options.fetch` is not given: the Node
 * entry passes node:http. Without either, the global fetch.
 */
export function createClientOn<S extends Schema = Schema>(options: ClientOptions, runtimeHttp?: Http): WirehopClient<S> {
  const location = (globalThis as { location?: { href: string } }).location;
  const url = new URL(options.url, location?.href);
  if (!/^https?:$/.test(url.protocol)) throw new TypeError(`wirehop: url must be an http(s) URL, got ${options.url}`);
  const order = options.transports ?? ['websocket', 'sse'];
  if (!order.length || order.some((t) => t !== 'websocket' && t !== 'sse')) throw new TypeError(`wirehop: transports must list 'websocket' and/or 'sse', got ${JSON.stringify(order)}`);

  const sess = new Session({ maxQueue: options.maxQueue ?? Defaults.maxQueue, maxMessageBytes: options.maxMessageBytes ?? Defaults.maxMessageBytes });
  // A throwing 'error' listener has nowhere else to go but the console.
  const events = createEmitter((error, event) => (event === 'error' ? console.error(error) : report(error, `'${event}' listener`)));
  const channels = new Map<string, ChannelCore>();

  /** An error nobody awaits becomes an 'error' event: a WirehopError as is, anything else a listener threw as handler_error. */
  function report(error: unknown, where: string) {
    events.emit('error', error instanceof WirehopError ? error : new WirehopError('handler_error', `${where} threw: ${(error as Error)?.message ?? String(error)}`, { error }));
  }

  function deliver(f: ServerReliableFrame) {
    switch (f.type) {
      case 'event':
        return channels.get(f.channel)?.dispatch(f.event, f.data, f.offset);
      case 'gap':
        return channels.get(f.channel)?.gap(f);
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

  // Every wirehop request carries the page's cookies across origins unless told otherwise; a server
  // with cors.credentials false answers `*`, which browsers accept only without credentials.
  const http = (!options.fetch && runtimeHttp) || fetchHttp((input, init) => (options.fetch ?? fetch)(input, init), options.credentials ?? 'include');
  const conn = createConnection(options, url.href.replace(/\/+$/, ''), order, { sess, events, http, deliver, channels: () => channels.values(), report });

  /** Queues a reliable frame; sends it at once if attached. Failures settle `reply`, never throw. */
  function enqueue(code: FrameCode, fields: unknown[], reply: Reply, ch?: string) {
    if (conn.state() === 'closed') return reply.fail(clientClosed());
    let it;
    try {
      it = item(code, fields, reply, ch);
    } catch (error) {
      return reply.fail(asWirehopError(error, 'bad_frame'));
    }
    const seq = sess.push(it);
    if (typeof seq !== 'number') return reply.fail(seq);
    conn.send(encodeWithTail(code, seq, it.tail));
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

  // Dictionary-mode in V8, as is any literal with accessors (so is the channel). Defining the getters
  // afterwards does not help: objects whose getters are different closures cannot share a hidden
  // class. Getters shared by all clients, reading state kept under a symbol, would: ~65 bytes gzip
  // for ~0.45 KiB less heap per client and channel, and no delivery CPU beyond noise.
  const client: WirehopClient<S> = {
    get state() {
      return conn.state();
    },
    get transport() {
      return conn.transport();
    },
    get sessionId() {
      return sess.sid;
    },
    get stats() {
      return { ...conn.stats(), queued: sess.out.size };
    },
    connect: conn.connect,
    close: conn.close,
    switchTransport: conn.switchTransport,
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
  if (options.autoConnect ?? true) queueMicrotask(conn.start);
  return client;
}
