/**
 * One transport attempt (a "link"): its transport, the deadline of its current handshake step,
 * and, for a switch candidate, the switch it carries out. The transport's callbacks are bound to
 * the link and dropped once the connection no longer counts it as live: the generation check.
 */
import { WirehopError, type ServerFrame } from '@wirehop/protocol';
import type { Job } from './switcher.js';
import { sse } from './transports/sse.js';
import { asWirehopError, type Transport, type TransportFactory, type TransportOptions } from './transports/transport.js';
import { websocket } from './transports/websocket.js';
import type { TransportName } from './types.js';

const FACTORIES: Record<TransportName, TransportFactory> = { websocket, sse };

export interface Link {
  name: TransportName;
  /** Undefined until opened (while `auth()` runs). */
  t?: Transport;
  /** Deadline of the current handshake step. */
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

/** What the connection does with a link's events; only called while `live(link)`. */
export interface LinkHooks {
  live(link: Link): boolean;
  frame(link: Link, frame: ServerFrame, size: number): void;
  /** Bytes arrived (liveness). Called even once the link is no longer live. */
  alive(link: Link): void;
  /** It failed, timed out, or the connection failed on one of its frames. */
  lost(link: Link, error: WirehopError): void;
  /** A WebSocket opened without HELLO (`options.hello` unset): test it. */
  opened(link: Link): void;
  /** The transport can carry frames behind its HELLO (TransportHandlers.open). */
  greeted(link: Link): void;
  /** See TransportHandlers.unsent. */
  unsent(link: Link, ack?: number): void;
  /** See TransportHandlers.claim. */
  claim(sid: string, token: string): void;
}

/** Starts `link.name`'s transport; its first step (WELCOME, or an open socket to test) has `ms`. */
export function openLink(link: Link, options: TransportOptions, ms: number, hooks: LinkHooks): void {
  const live = () => hooks.live(link);
  try {
    link.t = FACTORIES[link.name](options, {
      frame(frame, size) {
        if (!live()) return;
        // Our own bug while handling a frame must not kill the client: drop the link instead.
        try {
          hooks.frame(link, frame, size);
        } catch (error) {
          hooks.lost(link, new WirehopError('internal', `client failed on a ${frame.type} frame: ${(error as Error)?.message}`, { error }));
        }
      },
      alive: () => hooks.alive(link),
      close: (error) => live() && hooks.lost(link, error),
      open: () => live() && (options.hello ? hooks.greeted : hooks.opened)(link),
      claim: (sid, token) => live() && hooks.claim(sid, token),
      unsent: (ack) => live() && hooks.unsent(link, ack),
    });
    arm(link, ms, options.hello ? 'WELCOME' : 'open socket', hooks.lost);
  } catch (error) {
    hooks.lost(link, asWirehopError(error));
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
export function arm(link: Link, ms: number, what: string, lost: LinkHooks['lost']): void {
  clearTimeout(link.timer);
  deadline(ms, () => lost(link, new WirehopError('transport_failed', `${link.name}: no ${what} within ${ms} ms`)), (t) => (link.timer = t));
}
