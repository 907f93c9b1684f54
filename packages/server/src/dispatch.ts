/**
 * Client reliable frames → hub and application handlers, with the answers of protocol.md §2.
 * The session calls this in client sequence order. Only the authorize and publish hooks are
 * awaited in order (a publish after a subscribe must see the subscription); request and message
 * handlers run without holding back later frames, up to limits.handlersInFlight at once. Every
 * user callback is wrapped: a throw becomes a replyError or an onError call, never a crash.
 */
import { WirehopError, utf8Length, type ClientReliableFrame } from '@wirehop/protocol';
import type { HistoryLimits, StreamPosition } from './broker.js';
import type { ChannelRules } from './channels.js';
import type { Hub, Subscriber } from './hub.js';
import type { ServerLimits } from './options.js';
import type { ServerSession } from './session.js';
import type { ChannelConfig, Session, UserBase } from './types.js';

export type RequestHandler<U extends UserBase> = (data: unknown, session: Session<U>) => unknown;
export type MessageHandler<U extends UserBase> = (data: unknown, session: Session<U>) => void | Promise<void>;

export interface DispatchContext<U extends UserBase> {
  hub: Hub<Subscriber>;
  rules: ChannelRules<U>;
  requests: Map<string, RequestHandler<U>>;
  messages: Map<string, MessageHandler<U>>;
  emit(event: 'subscribe', session: ServerSession<U>, channel: string): void;
  /** The session left `channel`: its presence there ends (if tracked), and listeners hear of it. */
  left(session: ServerSession<U>, channel: string): void;
  limits: ServerLimits;
  /** Most publications one history request returns. */
  historyLimit: number;
  /** True when the channel's rule tracks presence. */
  tracksPresence(channel: string): boolean;
  /** The history limits of a channel whose rule this is. */
  historyFor(config: ChannelConfig<U>): HistoryLimits;
  onError(error: unknown, phase: string, session?: ServerSession<U>): void;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/**
 * Calls `then` with the value now, or when the promise settles; `fail` gets a throw or rejection.
 * Returns a promise while anything is pending, `then`'s own included: a synchronous hook whose
 * `then` goes on asynchronously (a subscribe) holds the frames after it all the same.
 */
function settle<T>(run: () => T | PromiseLike<T>, then: (value: T) => void | Promise<void>, fail: (error: unknown) => void): void | Promise<void> {
  let value: T | PromiseLike<T>;
  try {
    value = run();
  } catch (error) {
    fail(error);
    return;
  }
  if (!isThenable(value)) return then(value);
  return Promise.resolve(value).then(then, fail);
}

/**
 * A request or message handler, run as settle() runs it but not awaited: one still pending counts
 * against limits.handlersInFlight until it settles (ServerSession.running). The awaited hooks
 * (authorize, publish) hold the queue back themselves and are not counted.
 */
function runHandler<T>(session: Pick<ServerSession, 'running'>, run: () => T | PromiseLike<T>, then: (value: T) => void | Promise<void>, fail: (error: unknown) => void): void {
  const pending = settle(run, then, fail);
  if (pending) session.running(pending);
}

export class Dispatcher<U extends UserBase> {
  constructor(private readonly ctx: DispatchContext<U>) {}

  /** Runs one frame. Returns a promise only while a hook is pending. */
  dispatch(session: ServerSession<U>, frame: ClientReliableFrame): void | Promise<void> {
    switch (frame.type) {
      case 'subscribe':
        return this.subscribe(session, frame.seq, frame.channel, frame.since);
      case 'unsubscribe':
        return this.unsubscribe(session, frame.seq, frame.channel);
      case 'publish':
        return this.publish(session, frame.seq, frame.channel, frame.event, frame.data);
      case 'send':
        return this.message(session, frame.event, frame.data);
      case 'request':
        return this.request(session, frame.seq, frame.method, frame.data);
      case 'presence':
        return this.presence(session, frame.seq, frame.channel);
      case 'history':
        return this.history(session, frame.seq, frame.channel, frame.since ?? undefined, frame.limit);
    }
  }

  /** A thrown error as a replyError: WirehopError keeps its code and message; anything else is reported and hidden. */
  private replyWithError(session: ServerSession<U>, re: number, error: unknown, phase: string, fallbackCode = 'handler_error'): void {
    if (error instanceof WirehopError) {
      session.replyError(re, error.code, error.message);
      return;
    }
    this.ctx.onError(error, phase, session);
    const message = fallbackCode === 'handler_error' ? 'the handler failed' : fallbackCode === 'forbidden' ? 'not allowed' : 'the broker could not carry this out';
    session.replyError(re, fallbackCode, message);
  }

  private subscribe(session: ServerSession<U>, seq: number, channel: string, since?: StreamPosition): void | Promise<void> {
    const config = this.ctx.rules.match(channel);
    if (!config) {
      session.replyError(seq, 'forbidden', `no channel rule matches ${JSON.stringify(channel)}`);
      return;
    }
    const presence = config.presence === true;
    if (session.channels.has(channel)) {
      session.reply(seq, { presence, position: this.ctx.hub.positionOf(session, channel) ?? null });
      return;
    }
    // Subscribes hold later frames until done (below), so the count is never behind.
    const max = this.ctx.limits.maxSubscriptions;
    if (session.channels.size >= max) {
      session.replyError(seq, 'too_many_subscriptions', `a session may hold limits.maxSubscriptions (${max}) subscriptions`);
      return;
    }
    const authorize = config.authorize;
    if (!authorize) return this.subscribed(session, seq, channel, presence, since);
    return settle(
      () => authorize(session, channel),
      (allowed) => {
        if (!session.isOpen) return;
        if (allowed === true) return this.subscribed(session, seq, channel, presence, since);
        session.replyError(seq, 'forbidden', `not allowed to subscribe to ${JSON.stringify(channel)}`);
      },
      (error) => session.isOpen && this.replyWithError(session, seq, error, 'authorize'),
    );
  }

  /**
   * Held in order (the promise holds back the session's later frames): a publish or unsubscribe
   * right after must see the subscription, and recovered publications come before the reply.
   */
  private subscribed(session: ServerSession<U>, seq: number, channel: string, presence: boolean, since?: StreamPosition): Promise<void> {
    const { hub } = this.ctx;
    return hub.subscribe(session, channel, since).then(
      (position) => {
        if (!session.isOpen) return hub.unsubscribe(session, channel);
        // The reply first, so the client knows the subscription before its first presence frame. The
        // position is read now: publications queued since the subscribe resolved are in it.
        session.reply(seq, { presence, position: hub.positionOf(session, channel) ?? position });
        if (presence) hub.join(session, channel).catch((error: unknown) => this.ctx.onError(error, 'presence', session));
        this.ctx.emit('subscribe', session, channel);
      },
      (error: unknown) => {
        hub.unsubscribe(session, channel);
        if (session.isOpen) this.replyWithError(session, seq, error, 'subscribe', 'broker_unavailable');
      },
    );
  }

  private unsubscribe(session: ServerSession<U>, seq: number, channel: string): void {
    // Idempotent: unsubscribing from a channel one is not in succeeds (the client may resend after a gap).
    if (!session.channels.has(channel)) {
      session.reply(seq, null);
      return;
    }
    this.ctx.hub.unsubscribe(session, channel);
    session.reply(seq, null);
    this.ctx.left(session, channel);
  }

  private publish(session: ServerSession<U>, seq: number, channel: string, event: string, data: unknown): void | Promise<void> {
    const config: ChannelConfig<U> | undefined = this.ctx.rules.match(channel);
    const hook = config?.publish;
    if (!hook) {
      session.replyError(seq, 'forbidden', `clients may not publish to ${JSON.stringify(channel)}`);
      return;
    }
    // No subscription needed: the publish config is the gate (a client may post into a room it does not read).
    if (hook === true) return this.fanOut(session, seq, channel, event, data, config);
    return settle(
      () => hook(session, channel, event, data),
      (verdict) => {
        if (!session.isOpen) return;
        if (verdict === true) this.fanOut(session, seq, channel, event, data, config);
        else if (typeof verdict === 'object' && verdict !== null && 'data' in verdict) this.fanOut(session, seq, channel, event, verdict.data, config);
        else session.replyError(seq, 'forbidden', `not allowed to publish to ${JSON.stringify(channel)}`);
      },
      (error) => session.isOpen && this.replyWithError(session, seq, error, 'publish'),
    );
  }

  private fanOut(session: ServerSession<U>, seq: number, channel: string, event: string, data: unknown, config: ChannelConfig<U>): void {
    let stored: Promise<unknown>;
    try {
      stored = this.ctx.hub.publish(channel, event, data, this.ctx.historyFor(config));
    } catch (error) {
      // Oversize after a hook replaced the data, or data that is not JSON: the publisher is told.
      this.replyWithError(session, seq, error, 'publish');
      return;
    }
    // Not held in order: publishes of one session reach the broker in order anyway. With the
    // in-memory broker the event is already queued here, so a subscribed publisher gets it first.
    stored.then(
      () => session.isOpen && session.reply(seq, null),
      (error: unknown) => session.isOpen && this.replyWithError(session, seq, error, 'publish', 'broker_unavailable'),
    );
  }

  private message(session: ServerSession<U>, event: string, data: unknown): void {
    const handler = this.ctx.messages.get(event);
    if (!handler) {
      this.ctx.onError(new WirehopError('no_handler', `no onMessage handler for ${JSON.stringify(event)}`), 'message', session);
      return;
    }
    // Not awaited: a slow handler must not hold back later frames.
    runHandler(
      session,
      () => handler(data, session),
      () => undefined,
      (error) => this.ctx.onError(error, 'message', session),
    );
  }

  private request(session: ServerSession<U>, seq: number, method: string, data: unknown): void {
    const handler = this.ctx.requests.get(method);
    if (!handler) {
      session.replyError(seq, 'no_handler', `no request handler for ${JSON.stringify(method)}`);
      return;
    }
    // Not awaited: the reply goes out whenever the handler settles; later frames run meanwhile.
    runHandler(
      session,
      () => handler(data, session),
      (result) => this.replyResult(session, seq, result),
      (error) => this.replyWithError(session, seq, error, 'request'),
    );
  }

  /** A handler's result as a reply; a result that cannot be sent becomes a replyError. */
  private replyResult(session: ServerSession<U>, seq: number, result: unknown): void {
    try {
      session.checkedReply(seq, result);
    } catch (error) {
      // Not JSON, or over maxMessageBytes: a server-side bug the application should hear about.
      this.ctx.onError(error, 'reply', session);
      if (error instanceof WirehopError) session.replyError(seq, error.code, error.message);
      else session.replyError(seq, 'handler_error', 'the handler failed');
    }
  }

  private presence(session: ServerSession<U>, seq: number, channel: string): void {
    if (!session.channels.has(channel)) {
      session.replyError(seq, 'not_subscribed', `subscribe to ${JSON.stringify(channel)} to see its presence`);
      return;
    }
    if (!this.ctx.tracksPresence(channel)) {
      session.replyError(seq, 'forbidden', `presence is not enabled on ${JSON.stringify(channel)}`);
      return;
    }
    this.ctx.hub.members(channel).then(
      (members) => session.isOpen && this.replyResult(session, seq, members),
      (error: unknown) => session.isOpen && this.replyWithError(session, seq, error, 'presence', 'broker_unavailable'),
    );
  }

  /** History for a subscribed session, cut to what fits in one frame (`more` says the page was cut). */
  private history(session: ServerSession<U>, seq: number, channel: string, since: StreamPosition | undefined, limit: number): void {
    if (!session.channels.has(channel)) {
      session.replyError(seq, 'not_subscribed', `subscribe to ${JSON.stringify(channel)} to read its history`);
      return;
    }
    const max = Math.min(limit, this.ctx.historyLimit);
    this.ctx.hub.history(channel, since, max).then(
      (page) => {
        if (!session.isOpen) return;
        const budget = this.ctx.limits.maxMessageBytes - 256;
        let size = 0;
        let count = 0;
        for (const p of page.publications) {
          size += utf8Length(JSON.stringify(p)) + 1;
          if (size > budget) break;
          count++;
        }
        const more = count < page.publications.length || page.publications.length === max;
        this.replyResult(session, seq, { ...page, publications: page.publications.slice(0, count), more });
      },
      (error: unknown) => session.isOpen && this.replyWithError(session, seq, error, 'history', 'broker_unavailable'),
    );
  }
}
