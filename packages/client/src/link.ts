/**
 * One transport attempt (a "link"): its transport, the deadline of its current handshake step,
 * and, for a switch candidate, the switch it carries out. The connection binds the transport's
 * callbacks to the link, and drops them once it no longer counts it as live: the generation check.
 */
import { WirehopError } from '@wirehop/protocol';
import type { Job } from './switcher.js';
import { sse } from './transports/sse.js';
import { asWirehopError, type Transport, type TransportFactory, type TransportHandlers, type TransportOptions } from './transports/transport.js';
import { websocket } from './transports/websocket.js';
import type { TransportName } from './types.js';

const FACTORIES: Record<TransportName, TransportFactory> = { websocket, sse };

export interface Link {
  name: TransportName;
  /** Undefined until opened (while `auth()` runs). */
  t?: Transport;
  /** Deadline of the current handshake step; once the link carries the session, of a check (Connection's check()). */
  timer?: ReturnType<typeof setTimeout>;
  /** Switch candidates: the switch, and how to settle its run. */
  job?: Job;
  ok?: () => void;
  no?: (error: WirehopError) => void;
  /** WebSocket candidates: the `n` of the PING that tests the socket, until its PONG. */
  test?: number;
  /** WebSocket: when HELLO left on the open socket, and the round trip its WELCOME took (the server's hold left out). */
  helloAt?: number;
  rtt?: number;
  /** The last client seq sent behind HELLO, before WELCOME. */
  sent?: number;
  /** Session.sent before those frames, restored if the server refuses them (TransportHandlers.unsent). */
  prior?: number;
}

/** A link failed, or timed out (the connection's own handler). */
export type Lost = (link: Link, error: WirehopError) => void;

/** Starts `link.name`'s transport with `handlers`; its first step (WELCOME, or an open socket to test) has `ms`. */
export function openLink(link: Link, options: TransportOptions, ms: number, handlers: TransportHandlers, lost: Lost): void {
  try {
    link.t = FACTORIES[link.name](options, handlers);
    arm(link, ms, options.hello ? 'WELCOME' : 'open socket', lost);
  } catch (error) {
    lost(link, asWirehopError(error));
  }
}

/**
 * Runs `expire` after `ms`, unless the timer `keep` is given (and then each later one) is cleared.
 * A timer that fires late (a process or tab too busy to run it on time) can be ahead of an answer
 * that came in time and waits to be read: Node runs due timers before it reads sockets. Then one
 * more task lets that answer in first; under load, WebSocket attempts were otherwise given up for SSE.
 */
export function deadline(ms: number, expire: () => void, keep: (timer: ReturnType<typeof setTimeout>) => void): void {
  const due = Date.now() + ms;
  keep(setTimeout(() => (Date.now() > due ? keep(setTimeout(expire)) : expire()), ms));
}

/** Gives the link's next handshake step `ms`, after which it is lost as `transport_failed`. */
export function arm(link: Link, ms: number, what: string, lost: Lost): void {
  clearTimeout(link.timer);
  deadline(ms, () => lost(link, new WirehopError('transport_failed', `${link.name}: no ${what} within ${ms} ms`)), (t) => (link.timer = t));
}
