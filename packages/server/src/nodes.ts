/**
 * Sessions across server processes ("nodes"), so a load balancer needs no sticky sessions. A
 * session lives on one node (claimed in the broker). A request that reaches another node:
 * - a resume (WebSocket HELLO, GET /sse) brings the session over: the owner hands over its state
 *   (unacked frames, sequence numbers, subscriptions and their positions) and forgets it; this node
 *   re-subscribes from those positions, so publications in between come from history.
 * - a POST /send or DELETE /session is forwarded to the owner, which answers it as its own.
 * When the owner is dead nobody holds the session: the client gets session_unknown, starts a new
 * session and recovers its channels from history (protocol.md §3). A session that ended (TTL,
 * close, overflow) leaves its tombstone in the broker too, so a late resume on any node learns how
 * far it got, exactly as on the node where it ended.
 */
import { createHash } from 'node:crypto';
import { FrameCode, isErrorCode, type ErrorCode, type Json, type Member, type StreamPosition } from '@wirehop/protocol';
import { errorAnswer, processBatch, textBody, type BatchAnswer } from './batch.js';
import type { Broker } from './broker.js';
import type { HandshakeCore } from './handshake.js';
import { memberOf, type Hub, type Subscriber } from './hub.js';
import type { ServerSession, SessionState } from './session.js';
import { tokensEqual } from './sessions.js';
import type { UserBase } from './types.js';

/** How long a node waits for another to answer. */
const REQUEST_TIMEOUT_MS = 5000;
/** How long a handoff waits for a pending authorize/publish hook of the session to settle. */
const IDLE_WAIT_MS = 3000;

/** What the nodes module needs of the server. */
export interface NodesHost<U extends UserBase> extends HandshakeCore<U> {
  readonly hub: Hub<Subscriber>;
  /** True when the channel's rule tracks presence. */
  tracksPresence(channel: string): boolean;
  /** Registers a session that moved here (no 'session' event: it is not new). */
  restoreSession(state: SessionState): ServerSession<U>;
}

type Message =
  | { t: 'handoff'; sid: string; token: string; to: string }
  | { t: 'presence-moved'; channels: string[]; member: Member }
  | { t: 'push'; sid: string; code: number; tail: string }
  | { t: 'send'; sid: string; token: string; body: string }
  | { t: 'delete'; sid: string; token: string };

interface Handoff {
  ok: boolean;
  state?: SessionState;
  channels?: Array<[string, StreamPosition | null]>;
  presence?: string[];
}

export class NodeSessions<U extends UserBase> {
  private readonly adopting = new Map<string, Promise<void>>();
  /**
   * Sessions given away whose presence the new node has not taken over yet ('presence-moved' not
   * in): this node still counts their users, and must not leave them by closing meanwhile.
   */
  presenceOwed = 0;

  constructor(
    private readonly host: NodesHost<U>,
    private readonly broker: Broker,
  ) {}

  private report(phase: string) {
    return (error: unknown) => this.host.onError(error, phase);
  }

  claimed(session: ServerSession<U>): void {
    if (this.broker.distributed) this.broker.claimSession(session.id).catch(this.report('claim'));
  }

  released(session: ServerSession<U>): void {
    if (this.broker.distributed) this.broker.releaseSession(session.id).catch(this.report('claim'));
  }

  /** The session ended here: its tombstone goes to the broker as well, for a late resume elsewhere. */
  ended(session: ServerSession<U>, code: ErrorCode, message: string): void {
    const { tombstoneTtlMs, maxTombstones } = this.host.options;
    if (!this.broker.distributed || tombstoneTtlMs === 0 || maxTombstones === 0) return;
    const record = { code, message, ack: session.processed, tokenHash: tokenHash(session.token) };
    this.broker.endSession(session.id, record, tombstoneTtlMs).catch(this.report('tombstone'));
  }

  /**
   * Nobody holds `sid`: if it ended on some node and `token` is its token, remember its tombstone
   * here, so the lookup that follows answers with how it ended and how far it got.
   */
  private async importEnded(sid: string, token: string): Promise<void> {
    const record = await this.broker.endedSession(sid);
    if (!record || !isErrorCode(record.code) || !tokensEqual(record.tokenHash, tokenHash(token))) return;
    this.host.registry.remember(sid, { code: record.code, message: record.message, ack: record.ack, token, endedAt: Date.now() });
  }

  /**
   * Brings session `sid` here if another live node holds it, so that a resume can go on as if it
   * had always been here. Never rejects: if it cannot, the resume answers as for an unknown session.
   */
  adopt(sid: string, token: string): Promise<void> {
    if (!this.broker.distributed || this.host.registry.lookup(sid, token).kind !== 'unknown') return Promise.resolve();
    let running = this.adopting.get(sid);
    if (!running) {
      running = this.fetch(sid, token)
        .catch(this.report('handoff'))
        .finally(() => this.adopting.delete(sid));
      this.adopting.set(sid, running);
    }
    return running;
  }

  private async fetch(sid: string, token: string): Promise<void> {
    // Finding the node that holds the session and asking it: one round trip to the broker.
    const asked = await this.broker.requestOwner(sid, { t: 'handoff', sid, token, to: this.broker.nodeId }, REQUEST_TIMEOUT_MS);
    if (!asked) return this.importEnded(sid, token);
    const { owner } = asked;
    const answer = asked.answer as unknown as Handoff;
    if (!answer.ok || !answer.state || this.host.registry.get(sid)) return;
    const session = this.host.restoreSession(answer.state);
    const { hub } = this.host;
    // Held while its channels recover: a move away meanwhile waits, rather than take positions
    // the session has not reached yet. All channels at once: each is a broker subscription and a
    // history read, and a session in fifty rooms should not resume fifty round trips late. Order is
    // promised per channel, and each channel's frames keep theirs.
    await session.hold(() =>
      Promise.all(
        (answer.channels ?? []).map(([channel, position]) =>
          hub.subscribe(session, channel, position ?? undefined).catch((error: unknown) => this.host.onError(error, 'handoff', session)),
        ),
      ),
    );
    const presence = answer.presence ?? [];
    if (presence.length === 0) return;
    // Count the user here before the old node stops counting it: no leave/join flaps on the move.
    const member = memberOf(session.user);
    await Promise.all(presence.map((channel) => hub.join(session, channel).catch(this.report('presence'))));
    await this.broker.request(owner, { t: 'presence-moved', channels: presence, member } as unknown as Json, REQUEST_TIMEOUT_MS).catch(this.report('presence'));
  }

  /** A POST /send body or a DELETE for a session another node holds: its answer, or undefined if none does. */
  async forward(kind: 'send' | 'delete', sid: string, token: string, body = ''): Promise<BatchAnswer | undefined> {
    if (!this.broker.distributed) return undefined;
    const message: Json = kind === 'send' ? { t: 'send', sid, token, body } : { t: 'delete', sid, token };
    const asked = await this.broker.requestOwner(sid, message, REQUEST_TIMEOUT_MS);
    if (asked) return asked.answer as unknown as BatchAnswer;
    await this.importEnded(sid, token);
    return undefined;
  }

  /** A message from another node. */
  async answer(raw: Json, from: string): Promise<Json> {
    const message = raw as unknown as Message;
    switch (message.t) {
      case 'handoff':
        return (await this.handOff(message.sid, message.token, message.to)) as unknown as Json;
      case 'presence-moved': {
        // Every channel, even after one failed: a channel skipped would count the user twice.
        const removed = await Promise.allSettled(message.channels.map((channel) => this.broker.presenceRemove(channel, message.member)));
        for (const r of removed) if (r.status === 'rejected') this.report('presence')(r.reason);
        this.presenceOwed = Math.max(0, this.presenceOwed - 1);
        return null;
      }
      case 'push':
        this.host.registry.get(message.sid)?.pushTail(message.code as FrameCode, message.tail);
        return null;
      case 'send':
        return (await this.answerSend(message.sid, message.token, message.body)) as unknown as Json;
      case 'delete': {
        const found = this.host.registry.lookup(message.sid, message.token);
        if (found.kind === 'live') found.session.end('client_closed', 'the client closed the session');
        return (found.kind === 'unauthorized' ? errorAnswer('unauthorized') : { status: 204, body: '', contentType: 'text/plain' }) as unknown as Json;
      }
      default:
        throw new Error(`unknown node request from ${from}: ${JSON.stringify(raw)}`);
    }
  }

  private async answerSend(sid: string, token: string, body: string): Promise<BatchAnswer> {
    const found = this.host.registry.lookup(sid, token);
    if (found.kind === 'unauthorized') return errorAnswer('unauthorized', 'the resume token does not match the session');
    if (found.kind === 'ended') return errorAnswer(found.tombstone.code, found.tombstone.message, found.tombstone.ack);
    if (found.kind === 'unknown') return errorAnswer('session_unknown');
    return processBatch(this.host, found.session, textBody(body));
  }

  /** Gives a session away: its state goes to node `to`, and it is forgotten here (not ended). */
  private async handOff(sid: string, token: string, to: string): Promise<Handoff> {
    const found = this.host.registry.lookup(sid, token);
    if (found.kind !== 'live') return { ok: false };
    const session = found.session;
    if (session.holding) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([session.idle(), new Promise((resolve) => (timer = setTimeout(resolve, IDLE_WAIT_MS)))]);
      clearTimeout(timer);
      if (session.holding || !session.isOpen) return { ok: false };
    }
    if (!session.isOpen || this.host.registry.get(sid) !== session) return { ok: false };
    const { hub } = this.host;
    const channels: Array<[string, StreamPosition | null]> = [...session.channels].map((c) => [c, hub.positionOf(session, c) ?? null]);
    const presence = [...session.channels].filter((c) => this.host.tracksPresence(c));
    const state = session.exportState();
    // A handler answering after the move: its frame follows the session to its new node.
    session.moveOut((code, tail) => {
      this.broker.request(to, { t: 'push', sid, code, tail }, REQUEST_TIMEOUT_MS).catch(this.report('handoff'));
    });
    hub.unsubscribeAll(session); // presence is not left: the new node takes it over
    if (presence.length > 0) this.presenceOwed++;
    this.host.registry.forget(session);
    return { ok: true, state, channels, presence };
  }
}

/** SHA-256 of a resume token, hex: what the broker keeps instead of the token. */
function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
