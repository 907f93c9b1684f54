/**
 * Node-to-node requests over pub/sub: each node listens on its inbox channel; a request carries an
 * id and the sender's node id, and the answer (or the error the receiver's host threw) is published
 * to the sender's inbox. Here: the requests waiting for answers, and turning both ways into messages.
 */
import { WirehopError, type Json } from '@wirehop/protocol';
import type { InboxMessage } from './messages.js';
import { unavailable } from './options.js';

interface PendingRequest {
  resolve(answer: Json): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** To whom a request went, and PUBLISH's receiver count (-1: that node is not alive). */
export type Sent = [nodeId: string, receivers: number];

export interface InboxTransport {
  /** Publishes to `nodeId`'s inbox if that node lives: -1 when it does not, else PUBLISH's receiver count. */
  send(nodeId: string, message: string): Promise<number>;
  /** Publishes to the inbox of the live node holding session `sid`, if it is another: undefined when none is. */
  sendToOwner(sid: string, message: string): Promise<Sent | undefined>;
  /** Publishes an answer to `nodeId`'s inbox. */
  answer(nodeId: string, message: string): Promise<unknown>;
  /** Runs this node's host.request. */
  handle(message: Json, from: string): Promise<Json>;
  report(error: unknown): void;
}

export class Inbox {
  private readonly pending = new Map<string, PendingRequest>();
  private counter = 0;

  constructor(
    private readonly nodeId: string,
    private readonly transport: InboxTransport,
  ) {}

  async request(nodeId: string, message: Json, timeoutMs: number): Promise<Json> {
    const sent = await this.ask(message, timeoutMs, `node ${JSON.stringify(nodeId)}`, async (text) => [nodeId, await this.transport.send(nodeId, text)]);
    return sent!.answer;
  }

  /**
   * {@link request} to the live node holding session `sid`, found in the same round trip that
   * sends the request; undefined (nothing sent) when no node but this one holds it.
   */
  requestOwner(sid: string, message: Json, timeoutMs: number): Promise<{ owner: string; answer: Json } | undefined> {
    return this.ask(message, timeoutMs, `the node holding session ${JSON.stringify(sid)}`, (text) => this.transport.sendToOwner(sid, text));
  }

  /** Sends a request with `send` (`whom` names the target in errors) and waits for its answer. */
  private async ask(message: Json, timeoutMs: number, whom: string, send: (text: string) => Promise<Sent | undefined>): Promise<{ owner: string; answer: Json } | undefined> {
    const id = `${this.nodeId}.${++this.counter}`;
    const answer = new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WirehopError('timeout', `${whom} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    const request: InboxMessage = { k: 'q', id, from: this.nodeId, m: message };
    const sent = await send(JSON.stringify(request)).catch((e: unknown) => e);
    if (Array.isArray(sent) && sent[1] > 0) return { owner: sent[0] as string, answer: await answer };
    this.forget(id);
    if (sent === undefined) return undefined;
    if (!Array.isArray(sent)) throw unavailable(sent, `could not send a request to ${whom}`);
    const [nodeId, receivers] = sent as Sent;
    const [reason, why] = receivers < 0 ? ['node_not_alive', 'is not alive'] : ['node_not_listening', 'is alive but not listening (reconnecting?)'];
    throw new WirehopError('broker_unavailable', `node ${JSON.stringify(nodeId)} ${why}`, { node: nodeId, reason });
  }

  /** A message arrived in this node's inbox. */
  receive(m: InboxMessage): void {
    if (m.k === 'q') {
      void this.answer(m.id, m.from, m.m);
      return;
    }
    const p = this.forget(m.id);
    if (!p) return; // timed out already
    if ('r' in m) p.resolve(m.r);
    else p.reject(new WirehopError(m.e.code, m.e.message, m.e.detail));
  }

  /** Rejects every request still waiting (the broker is closing). */
  rejectAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.forget(id)?.reject(error);
  }

  private forget(id: string): PendingRequest | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  private async answer(id: string, from: string, message: Json): Promise<void> {
    let reply: InboxMessage;
    try {
      reply = { k: 'a', id, r: await this.transport.handle(message, from) };
    } catch (error) {
      const code = error instanceof WirehopError ? error.code : 'internal';
      const text = error instanceof Error ? error.message : String(error);
      const detail = error instanceof WirehopError ? error.detail : undefined;
      reply = { k: 'a', id, e: detail ? { code, message: text, detail } : { code, message: text } };
    }
    await this.transport.answer(from, JSON.stringify(reply)).catch((e) => this.transport.report(unavailable(e, `could not answer node ${JSON.stringify(from)}`)));
  }
}
