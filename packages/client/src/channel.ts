/**
 * A channel handle: subscription state, publications, event and presence listeners. Frames go
 * through the client's outbox; the session rebuilds subscriptions after a gap through
 * {@link Resubscriber}.
 */
import { FrameCode, WirehopError, type GapFrame, type Member, type StreamPosition } from '@wirehop/protocol';
import { createEmitter } from './emitter.js';
import { promiseReply, type Reply } from './requests.js';
import { checkName, item, type Resubscriber } from './session.js';
import type { Channel } from './types.js';

/** What a channel needs from its client. */
export interface ChannelHost {
  /** Queues a reliable frame. Never throws: a refusal settles `reply`. */
  enqueue(code: FrameCode, fields: unknown[], reply: Reply, ch?: string): void;
  /** Queues a frame and resolves with the server's answer; rejects with `timeout` after timeoutMs (0: never). */
  call<T>(code: FrameCode, fields: unknown[], timeoutMs?: number): Promise<T>;
  readonly requestTimeoutMs: number;
  /** Errors nobody awaits: a listener that threw (`where` says which), a re-subscription refused after a gap (a WirehopError, as is). */
  report(error: unknown, where: string): void;
}

/** A Channel plus what the client and the session need from it (not part of the public type). */
export interface ChannelCore extends Channel, Resubscriber {
  /** An event frame for this channel. */
  dispatch(event: string, data: unknown, offset: number): void;
  /** A GAP frame for this channel. */
  gap(frame: GapFrame): void;
  /** A join or leave frame for this channel. */
  presenceEvent(kind: 'join' | 'leave', member: Member): void;
  /** The session ended: the server holds no subscription any more. */
  reset(): void;
}

// Emitter keys: event names as they are; the wildcard and presence kinds start with a control
// character, which no event name may contain (protocol.md §2), so they never collide.
const ANY = '\0*';
const PRESENCE = '\0';
const GAP = '\0gap';

/** The channel `name`; the client keeps one per name. */
export function createChannel(name: string, host: ChannelHost): ChannelCore {
  const events = createEmitter((error, key) => host.report(error, `channel '${name}' ${key === ANY ? '*' : key.replace(PRESENCE, '')}`));
  let want = false;
  let subscribed = false;
  let presence = false;
  /** Bumped by subscribe()/unsubscribe(): a refused subscribe only undoes `want` if nothing changed since. */
  let version = 0;
  let subscribing: Promise<{ presence: boolean }> | undefined;
  /**
   * Where this channel's stream was read up to (epoch undefined: not known yet): sent when
   * re-subscribing in a new session, to recover what was missed. Two fields, not an object, so an
   * event costs no allocation.
   */
  let epoch: string | undefined;
  let offset = 0;
  const at = (p: StreamPosition) => {
    epoch = p.epoch;
    offset = p.offset;
  };
  let unsubscribing: Promise<void> | undefined;

  /** The answer to a subscribe frame: updates the state and settles `carried` (user promises). */
  const subscribeReply = (carried: Reply[]): Reply => {
    const v = version;
    return {
      ok(data) {
        subscribed = true;
        const d = data as { presence?: unknown; position?: StreamPosition } | null;
        presence = d?.presence === true;
        const p = d?.position;
        if (p && (epoch !== p.epoch || p.offset > offset)) at(p);
        for (const r of carried) r.ok({ presence });
      },
      fail(error) {
        if (v === version) {
          want = false;
          subscribing = undefined;
        }
        if (carried.length) for (const r of carried) r.fail(error);
        else host.report(new WirehopError(error.code, `re-subscribing to '${name}': ${error.message}`, error.detail), 'subscribe');
      },
    };
  };

  // Dictionary-mode in V8 (a literal with accessors): client.ts says why it stays one.
  const channel: ChannelCore = {
    name,
    get subscribed() {
      return subscribed;
    },
    get want() {
      return want;
    },
    subscribe() {
      if (want && subscribing) return subscribing;
      want = true;
      version++;
      unsubscribing = undefined;
      const [reply, promise] = promiseReply<{ presence: boolean }>();
      subscribing = promise;
      host.enqueue(FrameCode.subscribe, [name], subscribeReply([reply]), name);
      return promise;
    },
    unsubscribe() {
      if (!want) return unsubscribing ?? Promise.resolve();
      want = false;
      version++;
      subscribing = undefined;
      const [reply, promise] = promiseReply<void>();
      unsubscribing = promise;
      const done = {
        ok() {
          subscribed = false;
          epoch = undefined;
          reply.ok(undefined);
        },
        fail: reply.fail,
      };
      host.enqueue(FrameCode.unsubscribe, [name], done, name);
      return promise;
    },
    publish(event, data) {
      const bad = checkName('event', event);
      return bad ? Promise.reject(bad) : host.call(FrameCode.publish, [name, event, data ?? null]).then(() => undefined);
    },
    presence() {
      return host.call<Member[]>(FrameCode.presence, [name], host.requestTimeoutMs);
    },
    get position() {
      return epoch === undefined ? undefined : { epoch, offset };
    },
    history(options) {
      return host.call(FrameCode.history, [name, options?.since ?? null, options?.limit ?? 100], host.requestTimeoutMs);
    },
    onGap(handler) {
      return events.on(GAP, handler);
    },
    on(event: string, handler: (...args: never[]) => unknown) {
      return events.on(event === '*' ? ANY : event, handler);
    },
    onPresence(kind, handler) {
      return events.on(PRESENCE + kind, handler);
    },
    dispatch(event, data, n) {
      offset = n;
      events.emit(event, data);
      events.emit(ANY, event, data);
    },
    gap(f) {
      at(f.position);
      events.emit(GAP, { code: f.code, message: f.message, position: f.position });
    },
    presenceEvent(kind, member) {
      events.emit(PRESENCE + kind, member);
    },
    reset() {
      subscribed = false;
    },
    resubscribe: (carried) => item(FrameCode.subscribe, epoch === undefined ? [name] : [name, { epoch, offset }], subscribeReply(carried), name),
  };
  return channel;
}
