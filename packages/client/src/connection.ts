/**
 * The connection lifecycle of one client's session: connect, fall back to the next transport,
 * reconnect with backoff, resume, the heartbeat watchdog and quality PINGs (the first ones are the
 * probe, adaptive.ts), and make-before-break switches of the live session from one transport to the
 * other.
 *
 * Every transport attempt is a Link (link.ts). `cur` carries the session (its WELCOME arrived);
 * `next` is the attempt under way: the connection itself while there is no `cur`, else a switch
 * candidate. Callbacks of any other link are dropped: that is the generation check.
 *
 * A switch (protocol.md §6): the candidate resumes the session
 * (HELLO with the last delivered seq; to WebSocket only after the socket answered a PING) while
 * `cur` keeps delivering. Its WELCOME makes it `cur`; the outbox is resent from WELCOME.ack and the
 * old link is closed as superseded (no DELETE, no 1000: the session goes on). Frames both carry are
 * duplicates the session drops: each link delivers an in-order run starting at most one past what
 * was delivered, so no interleaving of the two can skip a number.
 *
 * The browser's network hints (network.ts) shortcut the timers: `offline` makes the link suspect
 * (checked at once; retries then wait for `online`), `online` reconnects at once or checks the
 * live link and runs the probe again, and a page visible again after being hidden checks the link.
 */
import {
  Defaults,
  ErrorCodes,
  PIPELINED_FRAMES,
  WirehopError,
  encodeClientControl,
  isErrorCode,
  type ClientControlFrame,
  type HelloFrame,
  type Json,
  type ServerFrame,
  type ServerReliableFrame,
  type WelcomeFrame,
} from '@wirehop/protocol';
import { adaptiveConfig, createAdaptive, keptSamples } from './adaptive.js';
import { ACK_DELAY_MS, createAcks } from './acks.js';
import { backoff } from './backoff.js';
import type { ChannelCore } from './channel.js';
import type { Emitter } from './emitter.js';
import { beat, smoothRtt } from './heartbeat.js';
import type { Http } from './http.js';
import { arm as armLink, deadline, openLink, type Link } from './link.js';
import { watchNetwork } from './network.js';
import { createMeter } from './quality.js';
import { promiseReply, type Reply } from './requests.js';
import type { Session } from './session.js';
import { createSwitcher, type Job } from './switcher.js';
import { tabSlots } from './tab-slots.js';
import { asWirehopError, type TransportHandlers } from './transports/transport.js';
import type { ClientOptions, ClientState, ClientStats, TransportName } from './types.js';

type Timer = ReturnType<typeof setTimeout> | undefined;

/** What every operation of a closed client rejects with. */
export const clientClosed = () => new WirehopError('client_closed', 'the client is closed');

/** What the connection needs from the client around it. */
export interface ConnectionHost {
  readonly sess: Session;
  readonly events: Emitter;
  /** Every HTTP request (SSE, POST, probe) goes through it. */
  readonly http: Http;
  /** A reliable server frame, delivered once and in order. */
  deliver(frame: ServerReliableFrame): void;
  channels(): Iterable<ChannelCore>;
  /** An error nobody awaits (a policy that threw). */
  report(error: unknown, where: string): void;
}

export interface Connection {
  // Methods, not getters: a literal with accessors is dictionary-mode in V8.
  state(): ClientState;
  transport(): TransportName | null;
  stats(): Omit<ClientStats, 'queued'>;
  start(): void;
  connect(): Promise<void>;
  close(): void;
  /** Sends an encoded frame on the transport carrying the session, if any (the outbox resends it otherwise). */
  send(frame: string): void;
  switchTransport(to: TransportName): Promise<void>;
}

const endsSession = ({ code }: WirehopError) => isErrorCode(code) && ErrorCodes[code].endsSession;
/** The server refused for its own state, not the transport's (CodeInfo.sameTransport). */
const sameTransport = ({ code }: WirehopError) => isErrorCode(code) && 'sameTransport' in ErrorCodes[code];

/**
 * The connection of one client.
 * @param base the server's wirehop URL without a trailing slash
 * @param order `transports`, validated
 */
export function createConnection(options: ClientOptions, base: string, order: TransportName[], host: ConnectionHost): Connection {
  const { sess, events, http } = host;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const initialDelayMs = options.reconnect?.initialDelayMs ?? 250;
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 10_000;
  const headers = () => (typeof options.headers === 'function' ? options.headers() : options.headers) ?? {};
  const c = adaptiveConfig(options.adaptive);
  const meter = createMeter(c.windowMs, c.pingTimeoutMs, (rtt, at) => ad?.sampled(rtt, at), keptSamples(c));
  const switcher = createSwitcher(run, () => cur?.name);
  const ad =
    options.adaptive !== false && order.includes('websocket') && order.includes('sse')
      ? createAdaptive(c, {
          meter,
          current: () => cur?.name,
          busy: switcher.busy,
          request: (to, reason, confirm) => void switcher.request(to, reason, confirm).catch(() => {}),
          ping: () => void (cur && ping(cur)),
          report: (error) => host.report(error, 'adaptive policy'),
        })
      : undefined;
  const slots = tabSlots(base, options.sseTabSlots, http);
  /** A WebSocket attempt gets less time when SSE could take over. */
  const wsTimeoutMs = ad ? c.websocketTimeoutMs : connectTimeoutMs;

  let state: ClientState = 'idle';
  let cur: Link | undefined;
  let next: Link | undefined;
  /** The transport the application is told about: `cur`'s, kept while a switch replaces a `cur` that died. */
  let active: TransportName | null = null;
  /** Index in `order` of the transport to try, and where the current round of attempts began. */
  let ti = 0;
  let roundStart = 0;
  let attempt = 0;
  /** The transport event's reason for the next attach, when it is not the session's own. */
  let via: string | null = null;
  /** A WebSocket attempt failed in this round: if SSE then connects, WebSocket is unusable here. */
  let wsDown = false;
  let srtt: number | null = null;
  let reconnects = 0;
  let switches = 0;
  let everConnected = false;
  let retryTimer: Timer, beatTimer: Timer;
  /** The browser said `offline` (and not `online` since): no point in trying often. */
  let offline = false;
  let unwatch: (() => void) | undefined;
  let lastSeen = 0;
  let nextPing = 0;
  let lastPing = 0;
  let deadAfter = 0;
  let pingEvery = 0;
  /** The PING period while the link is steady (Adaptive.steady). */
  let steadyEvery = 0;
  const waiters: Reply[] = [];

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
    events.emit('transport', { from, to, reason, quality: meter.quality(Date.now()) });
  }

  function start() {
    if (state !== 'idle') return;
    setState('connecting', 'connect');
    unwatch = watchNetwork({
      // Suspect: find out now rather than after heartbeat + timeout; retries wait for `online`.
      offline() {
        offline = true;
        check();
        if (retryTimer) retry();
      },
      // The network changed: check the link and measure again, or reconnect without waiting.
      online() {
        offline = false;
        attempt = 0;
        if (cur) {
          check();
          ad?.probe();
        } else if (retryTimer) retry(true);
      },
      // Back from hidden (throttled timers, perhaps a sleep): is the link still there?
      visible() {
        if (cur) check();
        else if (retryTimer && !offline) retry(true);
      },
    });
    // No request before the first transport: its first round trips are the probe, and move the
    // session at once if they say the network wants the other one.
    ad?.probe();
    void connect();
  }

  /** Opens `order[ti]` to connect or resume the session. */
  async function connect() {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    if (state === 'closed') return;
    const link: Link = { name: order[ti]! };
    next = link;
    try {
      const auth = sess.sid ? undefined : typeof options.auth === 'function' ? await options.auth() : options.auth;
      if (next !== link) return; // closed meanwhile
      open(link, sess.hello(auth as Json | undefined), link.name === 'websocket' ? wsTimeoutMs : connectTimeoutMs);
    } catch (error) {
      if (next === link) lost(link, asWirehopError(error));
    }
  }

  /**
   * How `link`'s transport reports: its callbacks are dropped once the link is neither `cur` nor
   * `next` (the generation check), except liveness.
   */
  function handlers(link: Link, hello: HelloFrame | undefined): TransportHandlers {
    const live = () => link === cur || link === next;
    return {
      frame(frame, size) {
        if (!live()) return;
        // Our own bug while handling a frame must not kill the client: drop the link instead.
        try {
          onFrame(link, frame, size);
        } catch (error) {
          lost(link, new WirehopError('internal', `client failed on a ${frame.type} frame: ${(error as Error)?.message}`, { error }));
        }
      },
      alive() {
        if (link !== cur) return;
        lastSeen = Date.now();
        clearTimeout(link.timer); // a check's deadline
      },
      close: (error) => live() && lost(link, error),
      // Without HELLO, a WebSocket opened: test it.
      open: () => live() && (hello ? greeted : test)(link),
      claim: (sid, token) => live() && sess.claim(sid, token),
      unsent: (ack) => live() && unsent(link, ack),
    };
  }

  /**
   * Starts `link`'s transport; it has `ms` to answer (WELCOME, or the socket opening for a test).
   * An SSE stream first takes a tab slot (tab-slots.ts); no timer runs while it waits for one.
   */
  function open(link: Link, hello: HelloFrame | undefined, ms: number) {
    const go = () => openLink(link, { url: base, hello, early: (bytes) => early(link, bytes), headers: headers(), WebSocket: options.WebSocket ?? globalThis.WebSocket, http, maxMessageBytes: sess.maxMessageBytes }, ms, handlers(link, hello), lost);
    if (link.name !== 'sse' || !slots) return go();
    void slots.take((error) => busy(link, error)).then((ok) => ok && link === next && go());
  }

  /**
   * No tab slot free for `link`'s stream: a switch fails, and so does a connection attempt with
   * transports left in its round (WebSocket needs no slot); the round's last one waits for a slot.
   */
  function busy(link: Link, error: WirehopError): boolean {
    if (link !== next) return false; // dropped meanwhile
    if (link.job || (ti + 1) % order.length !== roundStart) {
      lost(link, error);
      return false;
    }
    events.emit('error', error);
    return true;
  }

  const arm = (link: Link, ms: number, what: string) => armLink(link, ms, what, lost);
  const control = (link: Link, frame: ClientControlFrame) => link.t!.send([encodeClientControl(frame)], true);
  const acks = createAcks(options.ackEvery ?? Defaults.ackEvery, options.ackDelayMs ?? ACK_DELAY_MS, {
    unacked: () => sess.in.unacked,
    // Acks go on while a candidate resumes: its resume point may fall behind them, and the server
    // then replays from what was acked (protocol.md §6), so a fast stream cannot fill its replay
    // buffer while a slow transport answers.
    send: () => void (cur && sess.in.unacked > 0 && control(cur, { type: 'ack', ack: sess.in.takeAck() })),
  });

  /**
   * What goes behind `link`'s HELLO, before WELCOME (protocol.md §4, §5): the frames waiting in the
   * outbox, for a new session only its leading subscribes and reads (Session.frames). The server
   * applies them once it attached the session, so a subscribe made before the connection was up,
   * or a message queued while it was down, is answered a round trip sooner. A switch sends none:
   * the transport in use carries them all already. Session.sent counts them from here; `link.prior`
   * keeps what it was, for a refusal (unsent()).
   */
  function early(link: Link, bytes?: number): string[] {
    if (link.job) return [];
    link.prior = sess.sent;
    return sess.frames(sess.out.acked, PIPELINED_FRAMES, true, bytes);
  }

  /**
   * A transport is about to send HELLO and carries what is sent now with it (TransportHandlers.open):
   * WELCOME.ack may not count those yet, so attach() sends only what comes after them.
   */
  function greeted(link: Link) {
    // HELLO → WELCOME on an open socket is one round trip; an SSE resume's GET may open a
    // connection first, so its WELCOME is no RTT sample.
    if (link.name === 'websocket') link.helloAt = Date.now();
    const frames = early(link);
    link.sent = sess.out.acked + frames.length;
    link.t!.send(frames);
  }

  /** Before WELCOME, the server refused the frames sent behind the HELLO (TransportHandlers.unsent). */
  function unsent(link: Link, ack = 0) {
    if (link !== cur && link.prior !== undefined) sess.sent = Math.max(link.prior, ack);
  }

  /** A WebSocket candidate opened: it must answer a PING before the session moves onto it. */
  function test(link: Link) {
    link.test = Date.now();
    control(link, { type: 'ping', n: link.test });
    arm(link, c.pingTimeoutMs, 'PONG');
  }

  /** ...and it did: resume the session on it, unless the job no longer wants to. */
  function tested(link: Link) {
    link.test = undefined;
    ad?.works();
    if (link.job!.confirm?.() === false) {
      next = undefined;
      end(link); // no HELLO was sent: the socket has no session to end
      return link.ok!();
    }
    control(link, sess.hello());
    arm(link, connectTimeoutMs, 'WELCOME');
  }

  /** Runs a switch for the switcher: settles when `job.to` carries the session, or could not. */
  function run(job: Job): Promise<void> {
    return new Promise((ok, no) => {
      const link: Link = { name: job.to, job, ok, no };
      next = link;
      // SSE resumes at once; a WebSocket is tested first (PING) and sends HELLO once it answered.
      const sse = job.to === 'sse';
      open(link, sse ? sess.hello() : undefined, sse ? connectTimeoutMs : c.websocketTimeoutMs);
    });
  }

  function onFrame(link: Link, f: ServerFrame, size: number) {
    // On SSE a check's PONG comes in a POST answer, not on the stream: it counts as an answer too.
    if (link === cur) clearTimeout(link.timer);
    switch (f.type) {
      case 'welcome':
        return link === next ? welcome(link, f) : undefined;
      case 'bye':
      case 'error':
        // A server with no record of the session (restarted, or forgot it long ago) cannot know how
        // far it got: its BYE says ack 0, which means "unknown", never "nothing was processed"
        // (protocol.md §3). Read it so here, where the frame is read; a 404 answer has no ack either.
        return lost(link, new WirehopError(f.code, f.message, f.type === 'error' ? { retryMs: f.retryMs } : f.code === 'session_unknown' ? undefined : { ack: f.ack }));
    }
    if (link !== cur) return f.type === 'pong' && f.n === link.test ? tested(link) : lost(link, new WirehopError('bad_frame', `${f.type} frame before WELCOME`));
    switch (f.type) {
      case 'ack': {
        const refused = sess.serverAck(f.ack);
        if (refused) lost(link, refused);
        return;
      }
      case 'ping':
        return control(link, { type: 'pong', n: f.n });
      case 'pong': {
        const now = Date.now();
        const sample = meter.pong(f.n, now);
        if (sample !== undefined) srtt = smoothRtt(srtt, sample);
        return ad?.evaluate(now);
      }
    }
    const verdict = sess.in.accept(f.seq, size);
    if (verdict === 'gap') return lost(link, new WirehopError('out_of_order', `expected server frame ${sess.in.last + 1}, got ${f.seq}`));
    if (verdict === 'duplicate') return;
    host.deliver(f);
    if (link !== cur) return; // a listener closed the client
    acks.delivered(sess.in.unacked, sess.in.units);
  }

  /** `link` got its WELCOME: it carries the session now, as the connection or as a switch's candidate. */
  function welcome(link: Link, w: WelcomeFrame) {
    const created = sess.created;
    const refused = sess.attach(w);
    if (refused) return lost(link, refused);
    // HELLO → WELCOME on an open socket is a round trip, once the server's hold is taken out: the
    // first RTT sample, with no PING for it.
    if (link.helloAt !== undefined && w.held !== undefined) link.rtt = Math.max(0, Date.now() - link.helloAt - w.held);
    const old = cur;
    next = undefined;
    cur = link;
    if (link.job) {
      // The switch is done: let the old link go.
      ti = order.indexOf(link.name);
      // 4001 / an aborted stream without DELETE: the session goes on (and the server closes it too).
      if (old) end(old, new WirehopError('superseded'));
      switches++;
      ad?.switched(Date.now());
      attach(link, w, link.job.reason);
      link.ok!();
    } else {
      attempt = 0;
      roundStart = ti;
      if (everConnected) reconnects++;
      everConnected = true;
      if (wsDown && link.name === 'sse') ad?.failed('websocket', Date.now());
      wsDown = false;
      const reason = created ? 'session_created' : 'session_resumed';
      attach(link, w, via ?? reason);
      via = null;
      setState('connected', reason);
      for (const r of waiters.splice(0)) r.ok(undefined);
    }
    // Start the link's heartbeat, unless a listener changed everything meanwhile.
    if (link !== cur) return;
    ad?.attached();
    if (link.rtt !== undefined) meter.add(link.helloAt!, link.rtt);
    tick();
    switcher.kick();
  }

  /** What every attach does: heartbeat settings, resend the outbox from WELCOME.ack, tell listeners. */
  function attach(link: Link, w: WelcomeFrame, reason: string) {
    clearTimeout(link.timer);
    clearTimeout(beatTimer);
    // A heartbeat of 0 would mean "never": no watchdog, no pings.
    deadAfter = w.heartbeatMs > 0 ? w.heartbeatMs + w.heartbeatTimeoutMs : Infinity;
    // Never slower than the server's period: on SSE our PINGs are how the server knows we are alive.
    const heartbeat = Math.min(options.heartbeatMs || Infinity, w.heartbeatMs || Infinity);
    pingEvery = Math.min(heartbeat, ad ? c.sampleIntervalMs : Infinity);
    steadyEvery = Math.min(heartbeat, c.steadySampleIntervalMs);
    // The adaptive policy sends its first PING at once, for an RTT sample of the new link, unless
    // the WELCOME was one; without it that sample would only fill stats.rtt early, at a round trip
    // per connection.
    lastSeen = Date.now();
    nextPing = ad && link.rtt === undefined ? lastSeen : lastSeen + pingEvery;
    meter.forget();
    if (link.name !== 'sse') slots?.free();
    link.t!.send(sess.frames(Math.max(w.ack, link.sent ?? 0)));
    acks.attached(w, link.name === 'sse');
    acks.later();
    setTransport(link.name, reason);
  }

  /** Heartbeat: PING on schedule (RTT and loss samples), and declare the link dead after too long a silence. */
  function tick() {
    const link = cur!;
    const now = Date.now();
    // Losses first: the probe may send its next PING from here, which puts the regular one off.
    meter.expire(now);
    // A steady link is sampled less often (AdaptiveOptions.steadySampleIntervalMs), unless a PING
    // is due now (check()). The look stays at the regular pace: a sample that ends the steadiness
    // brings the regular PINGs back within it.
    const due = nextPing > 0 && ad?.steady(now) ? Math.max(nextPing, lastPing + steadyEvery) : nextPing;
    const b = beat(now, lastSeen, due, deadAfter, pingEvery);
    if (b.dead) return lost(link, new WirehopError('heartbeat_timeout', `nothing received for ${deadAfter} ms`));
    if (b.ping) ping(link);
    // A look that comes late (a process too busy, a machine that slept) reads what came in before
    // it judges the silence: deadline() gives it one more task then.
    deadline(Math.min(b.wait, pingEvery), tick, (t) => (beatTimer = t));
    ad?.evaluate(now);
  }

  /** A quality PING: its PONG is an RTT sample; none within pingTimeoutMs, a loss. */
  function ping(link: Link) {
    // Two in one millisecond (a probe's next one) would share an `n`: the second PONG would match nothing.
    const now = Date.now();
    const n = (lastPing = Math.max(now, lastPing + 1));
    nextPing = now + pingEvery;
    meter.ping(n);
    control(link, { type: 'ping', n });
    if (link.name === 'sse') acks.now(); // the same POST carries it
  }

  /**
   * Checks the link at once: a PING now, and the link is lost unless something arrives within
   * pingTimeoutMs. Not heartbeat_timeout: a link that died in a sleep or a network change says
   * nothing against WebSocket, so nothing is marked unusable.
   */
  function check() {
    const link = cur;
    if (!link) return;
    clearTimeout(beatTimer);
    nextPing = 0;
    tick();
    // The handshake's deadline timer is free once the link carries the session.
    if (link === cur) arm(link, c.pingTimeoutMs, 'answer to a PING');
  }

  /**
   * Stops `link`'s deadline and closes its transport: `error` says why the session goes on elsewhere,
   * none that the client is closing (Transport.close).
   */
  function end(link: Link, error?: WirehopError) {
    clearTimeout(link.timer);
    link.t?.close(error);
  }

  /** A switch candidate's callers learn that it failed, and why. */
  const reject = (link: Link, error: WirehopError) => link.no?.(new WirehopError('transport_failed', `${link.name}: ${error.message}`, { error }));

  /** `link` failed or was refused: what happens depends on which link it was. */
  function lost(link: Link, error: WirehopError) {
    end(link, error);
    if (link === next) {
      next = undefined;
      if (!link.job) return failed(link, error);
      // A switch candidate: the session stays where it was, if it still is anywhere.
      if (!sameTransport(error)) ad?.failed(link.name, Date.now());
      reject(link, error);
      if (cur?.name !== 'sse') slots?.free();
      if (!cur || endsSession(error)) drop(error);
      return;
    }
    // A silently blackholed WebSocket must not be the first thing retried.
    if (link.name === 'websocket' && error.code === 'heartbeat_timeout') ad?.failed('websocket', Date.now());
    if (next && !endsSession(error)) {
      // Mid-switch (often superseded by the candidate itself): the candidate takes over.
      cur = undefined;
      clearTimeout(beatTimer);
      meter.forget();
      return;
    }
    drop(error);
  }

  /** A connection attempt failed before WELCOME: try the next transport at once, until a whole round failed. */
  function failed(link: Link, error: WirehopError) {
    if (state === 'closed') return;
    if (sess.sid && endsSession(error)) return gap(error);
    events.emit('error', error);
    // A node shutting down, or full (for everyone, or for this user): the balancer may send the
    // retry elsewhere, and this transport is fine. A full one says when to come back (protocol.md §3).
    if (sameTransport(error)) {
      roundStart = ti;
      return retry(false, error.detail?.retryMs);
    }
    if (link.name === 'websocket') wsDown = true;
    ti = (ti + 1) % order.length;
    if (ti === roundStart) return retry();
    via = 'fallback';
    void connect();
  }

  /** The session lost its transport: resume it (elsewhere if WebSocket is unusable), or report a gap. */
  function drop(error: WirehopError) {
    const n = next;
    next = undefined;
    if (n) {
      end(n, error);
      reject(n, error);
    }
    if (cur) end(cur, error);
    cur = undefined;
    stopTimers();
    meter.forget();
    setTransport(null, error.code);
    if (state === 'closed') return;
    if (sess.sid && endsSession(error)) return gap(error);
    roundStart = ti;
    setState('reconnecting', error.code);
    events.emit('error', error);
    retry();
  }

  /**
   * Schedules the next round of attempts; `now`: without waiting (the network is back). `hint`: the
   * server's retryMs, waited for spread over twice as long, so that a crowd it refused at once comes
   * back spread out.
   */
  function retry(now = false, hint?: unknown) {
    clearTimeout(retryTimer);
    if (state === 'closed') return;
    const first = ad && !ad.usable ? order.indexOf('sse') : roundStart;
    // Backoff spaces out retries of a path that failed; a dead WebSocket says nothing about SSE,
    // so the first move there is immediate (the dead-link bound is heartbeat + timeout, no more).
    // Offline, only the longest delay: `online` comes first, unless the browser was wrong.
    const wait = typeof hint === 'number' ? hint * (1 + Math.random()) : (now || (first !== roundStart && attempt === 0)) ? 0 : offline ? maxDelayMs : backoff(attempt++, initialDelayMs, maxDelayMs);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      wsDown = false;
      via = first === roundStart ? null : 'websocket_unusable';
      ti = roundStart = first;
      void connect();
    }, wait);
  }

  /** The session is gone (protocol.md §3): report a gap, move everything into a new session. */
  function gap(error: WirehopError) {
    const ack = error.detail?.ack;
    for (const ch of host.channels()) ch.reset();
    const { resent, lost } = sess.rebase(typeof ack === 'number' ? ack : undefined, host.channels());
    setState('reconnecting', error.code);
    events.emit('gap', { code: error.code, message: error.message, resent, lost });
    retry();
  }

  function stopTimers() {
    clearTimeout(beatTimer);
    acks.stop();
  }

  return {
    state: () => state,
    transport: () => active,
    stats() {
      const q = meter.quality(Date.now());
      return { rtt: q.rtt ?? srtt, loss: q.loss, jitter: q.jitter, reconnects, switches, transport: active };
    },
    start: () => void start(),
    connect() {
      if (state === 'closed') return Promise.reject(clientClosed());
      if (state === 'connected') return Promise.resolve();
      const [reply, promise] = promiseReply<void>();
      waiters.push(reply);
      void start();
      return promise;
    },
    close() {
      if (state === 'closed') return;
      const error = clientClosed();
      for (const link of [cur, next]) {
        if (!link) continue;
        end(link);
        link.no?.(error);
      }
      cur = next = undefined;
      stopTimers();
      clearTimeout(retryTimer);
      unwatch?.();
      slots?.free();
      ad?.close();
      switcher.close(error);
      sess.close(error);
      for (const r of waiters.splice(0)) r.fail(error);
      setTransport(null, 'client_closed');
      setState('closed', 'client_closed');
    },
    send(frame) {
      // The frame just queued, the newest: sent only if a transport carries the session.
      if (cur) sess.sent = sess.out.lastSeq;
      cur?.t!.send([frame]);
      acks.sending(); // the transport batches a task's frames: the same POST
    },
    switchTransport(to) {
      if (!order.includes(to)) return Promise.reject(new TypeError(`wirehop: cannot switch to ${JSON.stringify(to)}: transports lists ${JSON.stringify(order)}`));
      if (state === 'closed') return Promise.reject(clientClosed());
      return switcher.request(to, 'manual');
    },
  };
}
