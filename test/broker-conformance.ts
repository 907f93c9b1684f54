/**
 * The behaviour every broker must have (packages/server/src/broker.ts), as one vitest `describe`
 * that runs against any implementation. The suite starts the brokers itself with recording hosts.
 * Cases that need several nodes (and sessions and requests, which only mean something across
 * nodes) are registered only when the factory says it can make more than one: the in-memory broker
 * is a single node by design, so those cases do not exist for it rather than being skipped.
 */
import type { Json, Member } from '@wirehop/protocol';
import { WirehopError } from '@wirehop/protocol';
import type { Broker, BrokerHost, HistoryLimits, StreamPosition } from '@wirehop/server';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/wait.js';

export interface BrokerNodes {
  /** Not yet started: the suite starts each with its own {@link RecordingHost}. */
  brokers: Broker[];
  /** Frees what the factory made (the suite has closed the brokers already). */
  cleanup(): Promise<void>;
}

export interface BrokerCapabilities {
  /** How many nodes sharing state `makeNodes` can make; multi-node cases need 2 or more. */
  maxNodes: number;
}

export interface Delivered {
  channel: string;
  epoch: string;
  offset: number;
  payload: string;
}

/** A BrokerHost that writes down everything the broker tells it. */
export class RecordingHost implements BrokerHost {
  readonly publications: Delivered[] = [];
  readonly presences: Array<{ channel: string; kind: 'join' | 'leave'; member: Member }> = [];
  readonly requests: Array<{ message: Json; from: string }> = [];
  readonly errors: unknown[] = [];
  reconnects = 0;
  /** What `request` answers; the default echoes. */
  answer: (message: Json, from: string) => Promise<Json> = async (message) => ({ echo: message });

  publication(channel: string, epoch: string, offset: number, payload: string): void {
    this.publications.push({ channel, epoch, offset, payload });
  }
  presence(channel: string, kind: 'join' | 'leave', member: Member): void {
    this.presences.push({ channel, kind, member });
  }
  request(message: Json, from: string): Promise<Json> {
    this.requests.push({ message, from });
    return this.answer(message, from);
  }
  reconnected(): void {
    this.reconnects++;
  }
  error(error: unknown): void {
    this.errors.push(error);
  }
  /** Publications of one channel, in arrival order. */
  on(channel: string): Delivered[] {
    return this.publications.filter((p) => p.channel === channel);
  }
  presenceOn(channel: string): string[] {
    return this.presences.filter((p) => p.channel === channel).map((p) => `${p.kind}:${p.member.id}`);
  }
}

const KEEP: HistoryLimits = { size: 100, ttlMs: 60_000 };
let channelCounter = 0;
/** A channel name no other case uses, with characters that a naive encoding would trip on. */
const fresh = (what: string) => `conf:${what}:${++channelCounter}:{ü ✓}`;

/** waitFor for an asynchronous check: polls until it resolves with a value. */
/**
 * The node holding session `sid` as node `from` finds it, through the one lookup the server uses
 * (requestOwner, answered by the owner's host): another live node, else undefined (its own, or none).
 */
export async function ownerSeenBy(from: Broker, sid: string): Promise<string | undefined> {
  return (await from.requestOwner(sid, 'who holds it?', 5_000))?.owner;
}

export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

export function brokerConformance(
  name: string,
  makeNodes: (count: number) => Promise<BrokerNodes>,
  capabilities: BrokerCapabilities,
): void {
  describe(`broker conformance: ${name}`, () => {
    let made: BrokerNodes | undefined;

    /** `count` started nodes sharing state, each with a recording host. */
    async function nodes(count: number): Promise<Array<{ broker: Broker; host: RecordingHost }>> {
      made = await makeNodes(count);
      const started = made.brokers.map((broker) => ({ broker, host: new RecordingHost() }));
      await Promise.all(started.map(({ broker, host }) => broker.start(host)));
      return started;
    }

    async function one(): Promise<{ broker: Broker; host: RecordingHost }> {
      return (await nodes(1))[0]!;
    }

    afterEach(async () => {
      if (!made) return;
      const done = made;
      made = undefined;
      await Promise.all(done.brokers.map((b) => b.close()));
      await done.cleanup();
    });

    // ---- one node ----------------------------------------------------------------------------

    it('numbers publications 1..n in one epoch and delivers them in order, payloads intact', async () => {
      const { broker, host } = await one();
      const channel = fresh('offsets');
      const start = await broker.subscribe(channel);
      expect(start.offset).toBe(0);
      const payloads = ['["a",1]', 'line 1\nline 2', '', 'ünï ✓ \u{1F600}', '\n\n'];
      const positions: StreamPosition[] = [];
      for (const p of payloads) positions.push(await broker.publish(channel, p, KEEP));
      expect(positions).toEqual(payloads.map((_, i) => ({ epoch: start.epoch, offset: i + 1 })));
      await waitFor(() => host.on(channel).length >= payloads.length, { what: 'all publications' });
      expect(host.on(channel)).toEqual(payloads.map((payload, i) => ({ channel, epoch: start.epoch, offset: i + 1, payload })));
    });

    it("subscribe resolves with the position before what it delivers, and delivers everything after it", async () => {
      const { broker, host } = await one();
      const channel = fresh('subscribe');
      for (let i = 0; i < 3; i++) await broker.publish(channel, `early ${i}`, KEEP);
      const position = await broker.subscribe(channel);
      expect(position.offset).toBe(3);
      await broker.publish(channel, 'late 0', KEEP);
      await broker.publish(channel, 'late 1', KEEP);
      await waitFor(() => host.on(channel).some((p) => p.offset === 5), { what: 'offset 5' });
      const after = host.on(channel).filter((p) => p.offset > position.offset);
      expect(after.map((p) => [p.epoch, p.offset, p.payload])).toEqual([
        [position.epoch, 4, 'late 0'],
        [position.epoch, 5, 'late 1'],
      ]);
    });

    it('stops delivering a channel after unsubscribe', async () => {
      const { broker, host } = await one();
      const gone = fresh('gone');
      const kept = fresh('kept');
      await broker.subscribe(gone);
      await broker.unsubscribe(gone);
      await broker.subscribe(kept);
      await broker.publish(gone, 'not for us', KEEP);
      await broker.publish(kept, 'marker', KEEP);
      // The marker was published after; a delivery of `gone` would have come first.
      await waitFor(() => host.on(kept).length === 1, { what: 'the marker' });
      expect(host.on(gone)).toEqual([]);
    });

    it('reads history after a position, at most `limit`, oldest first', async () => {
      const { broker } = await one();
      const channel = fresh('history');
      let last: StreamPosition | undefined;
      for (let i = 1; i <= 5; i++) last = await broker.publish(channel, `p${i}`, KEEP);
      const epoch = last!.epoch;
      const all = await broker.history(channel, undefined, 100);
      expect(all).toEqual({ position: { epoch, offset: 5 }, complete: true, publications: [1, 2, 3, 4, 5].map((o) => ({ offset: o, payload: `p${o}` })) });
      const since2 = await broker.history(channel, { epoch, offset: 2 }, 2);
      expect(since2).toEqual({ position: { epoch, offset: 5 }, complete: true, publications: [{ offset: 3, payload: 'p3' }, { offset: 4, payload: 'p4' }] });
      const upToDate = await broker.history(channel, { epoch, offset: 5 }, 100);
      expect(upToDate).toEqual({ position: { epoch, offset: 5 }, complete: true, publications: [] });
      const none = await broker.history(channel, { epoch, offset: 0 }, 0);
      expect(none).toEqual({ position: { epoch, offset: 5 }, complete: true, publications: [] });
    });

    it('history is incomplete for another epoch or a position ahead of the channel, and starts where it can', async () => {
      const { broker } = await one();
      const channel = fresh('epoch');
      await broker.publish(channel, 'a', KEEP);
      const { epoch } = await broker.publish(channel, 'b', KEEP);
      const other = await broker.history(channel, { epoch: `not-${epoch}`, offset: 1 }, 100);
      expect(other).toEqual({ position: { epoch, offset: 2 }, complete: false, publications: [{ offset: 1, payload: 'a' }, { offset: 2, payload: 'b' }] });
      const ahead = await broker.history(channel, { epoch, offset: 7 }, 100);
      expect(ahead.complete).toBe(false);
      expect(ahead.publications).toEqual([]);
    });

    it('history of a channel nobody published to is empty; complete from nothing or from offset 0 of its epoch', async () => {
      const { broker } = await one();
      const channel = fresh('empty');
      const page = await broker.history(channel, undefined, 100);
      expect(page.position.offset).toBe(0);
      expect(page).toMatchObject({ publications: [], complete: true });
      const position = await broker.subscribe(channel);
      expect(position).toEqual(page.position);
      expect(await broker.history(channel, position, 100)).toEqual({ position, publications: [], complete: true });
    });

    it('keeps at most `size` publications: history before them is incomplete', async () => {
      const { broker } = await one();
      const channel = fresh('size');
      let epoch = '';
      for (let i = 1; i <= 6; i++) epoch = (await broker.publish(channel, `p${i}`, { size: 3, ttlMs: 60_000 })).epoch;
      expect(await broker.history(channel, undefined, 100)).toEqual({
        position: { epoch, offset: 6 },
        complete: true,
        publications: [4, 5, 6].map((o) => ({ offset: o, payload: `p${o}` })),
      });
      // Offset 3 is the last one dropped: from 3 nothing is missing, from 2 offset 3 is.
      expect((await broker.history(channel, { epoch, offset: 3 }, 100)).complete).toBe(true);
      const from2 = await broker.history(channel, { epoch, offset: 2 }, 100);
      expect(from2.complete).toBe(false);
      expect(from2.publications.map((p) => p.offset)).toEqual([4, 5, 6]);
    });

    it('size 0 keeps no history, but offsets and the epoch go on', async () => {
      const { broker } = await one();
      const channel = fresh('size0');
      const first = await broker.publish(channel, 'kept', KEEP);
      const second = await broker.publish(channel, 'not kept', { size: 0, ttlMs: 60_000 });
      expect(second).toEqual({ epoch: first.epoch, offset: 2 });
      const page = await broker.history(channel, { epoch: first.epoch, offset: 0 }, 100);
      expect(page).toEqual({ position: second, publications: [], complete: false });
      expect((await broker.history(channel, second, 100)).complete).toBe(true);
    });

    it('drops publications older than `ttlMs`: history after them becomes incomplete', async () => {
      const { broker } = await one();
      const channel = fresh('ttl');
      const short = { size: 100, ttlMs: 150 };
      const first = await broker.publish(channel, 'old', short);
      const since = { epoch: first.epoch, offset: 0 };
      expect(await broker.history(channel, since, 100)).toMatchObject({ complete: true, publications: [{ offset: 1, payload: 'old' }] });
      // Waiting for a state the broker's clock brings about, not sleeping for a fixed time.
      const expired = await eventually(async () => {
        const page = await broker.history(channel, since, 100);
        return page.publications.length === 0 ? page : undefined;
      }, 'the publication to expire');
      expect(expired).toEqual({ position: { epoch: first.epoch, offset: 1 }, publications: [], complete: false });
      const next = await broker.publish(channel, 'new', short);
      expect(next.offset).toBe(2);
      expect(await broker.history(channel, since, 100)).toEqual({ position: next, publications: [{ offset: 2, payload: 'new' }], complete: false });
      expect(await broker.history(channel, first, 100)).toEqual({ position: next, publications: [{ offset: 2, payload: 'new' }], complete: true });
    });

    it('drops old publications by age while newer ones stay', async () => {
      const { broker } = await one();
      const channel = fresh('ttl-live');
      // Long enough that no pause of a loaded machine lets the whole history expire between two publishes.
      const short = { size: 1_000_000, ttlMs: 500 };
      const first = await broker.publish(channel, 'p1', short);
      const since = { epoch: first.epoch, offset: 0 };
      // A burst that expires at about one moment: more than one read's worth goes at once.
      const burst = await Promise.all(Array.from({ length: 250 }, (_, i) => broker.publish(channel, `p${i + 2}`, short)));
      expect(burst.map((p) => p.offset)).toEqual(Array.from({ length: 250 }, (_, i) => i + 2));
      // Publishing on while reading: the channel's history never expires as a whole, its head must.
      let last = burst.at(-1) as StreamPosition;
      const page = await eventually(async () => {
        last = await broker.publish(channel, `p${last.offset + 1}`, short);
        const read = await broker.history(channel, since, 1_000_000);
        const head = read.publications[0]?.offset;
        return head !== undefined && head > 251 ? read : undefined;
      }, 'the first 251 publications to expire');
      expect(page.complete).toBe(false);
      expect(page.position).toEqual(last);
      const offsets = page.publications.map((p) => p.offset);
      expect(offsets.at(-1)).toBe(last.offset);
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => (offsets[0] as number) + i));
      expect(page.publications.every((p) => p.payload === `p${p.offset}`)).toBe(true);
    });

    it('counts presence per user: one join for the first session, one leave after the last', async () => {
      const { broker, host } = await one();
      const channel = fresh('presence');
      await broker.subscribe(channel);
      const ann = { id: 'ann', info: { name: 'Ann' } };
      await broker.presenceAdd(channel, ann);
      await broker.presenceAdd(channel, { id: 'ann', info: { name: 'Ann (tab 2)' } });
      await broker.presenceAdd(channel, { id: 'bob' });
      await waitFor(() => host.presenceOn(channel).length >= 2, { what: 'two joins' });
      expect(sortById(await broker.members(channel))).toEqual([ann, { id: 'bob' }]);
      await broker.presenceRemove(channel, ann);
      await broker.presenceRemove(channel, { id: 'nobody' });
      await broker.presenceRemove(channel, { id: 'bob' });
      await waitFor(() => host.presenceOn(channel).includes('leave:bob'), { what: "bob's leave" });
      // Still one session of ann: no leave for her, and she is still a member.
      expect(host.presenceOn(channel)).toEqual(['join:ann', 'join:bob', 'leave:bob']);
      expect(await broker.members(channel)).toEqual([ann]);
      await broker.presenceRemove(channel, ann);
      await waitFor(() => host.presenceOn(channel).includes('leave:ann'), { what: "ann's leave" });
      expect(host.presences.find((p) => p.kind === 'leave' && p.member.id === 'ann')?.member).toEqual(ann);
      expect(await broker.members(channel)).toEqual([]);
    });

    it('knows no owner for a session nobody claimed, and sends no request there', async () => {
      const { broker } = await one();
      expect(await broker.requestOwner('never-claimed', 'hello?', 5_000)).toBeUndefined();
      expect(await broker.otherNodes()).toBe(0);
    });

    it('rejects publish with broker_unavailable once closed', async () => {
      const { broker } = await one();
      await broker.close();
      const error = await rejection(broker.publish(fresh('closed'), 'x', KEEP));
      expect(error).toBeInstanceOf(WirehopError);
      expect((error as WirehopError).code).toBe('broker_unavailable');
    });

    if (capabilities.maxNodes < 2) return;

    // ---- several nodes ---------------------------------------------------------------------

    type Node = { broker: Broker; host: RecordingHost };
    const count = Math.min(3, capabilities.maxNodes);

    it(`delivers concurrent publishes from ${count} nodes to every node in one offset order`, async () => {
      const all = await nodes(count);
      const channel = fresh('concurrent');
      const starts = await Promise.all(all.map(({ broker }) => broker.subscribe(channel)));
      expect(new Set(starts.map((s) => s.epoch)).size).toBe(1);
      const perNode = 20;
      const positions = await Promise.all(
        all.flatMap(({ broker }, n) => Array.from({ length: perNode }, (_, i) => broker.publish(channel, `n${n}-${i}`, KEEP))),
      );
      const total = perNode * all.length;
      expect(positions.map((p) => p.offset).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      await Promise.all(all.map(({ host }) => waitFor(() => host.on(channel).length >= total, { what: `${total} publications on every node` })));
      const reference = (all[0] as Node).host.on(channel);
      expect(reference.map((p) => p.offset)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (const { host } of all) expect(host.on(channel)).toEqual(reference);
      // Each node's own publishes were numbered in the order it made them.
      for (let n = 0; n < all.length; n++) {
        const mine = reference.filter((p) => p.payload.startsWith(`n${n}-`)).map((p) => p.payload);
        expect(mine).toEqual(Array.from({ length: perNode }, (_, i) => `n${n}-${i}`));
      }
    });

    it('shares history and positions between nodes', async () => {
      const [a, b] = (await nodes(2)) as [Node, Node];
      const channel = fresh('shared-history');
      await a.broker.publish(channel, 'from a', KEEP);
      const position = await b.broker.subscribe(channel);
      expect(position.offset).toBe(1);
      const page = await b.broker.history(channel, { epoch: position.epoch, offset: 0 }, 10);
      expect(page).toEqual({ position, publications: [{ offset: 1, payload: 'from a' }], complete: true });
    });

    it('counts presence per user across nodes: one join and one leave in all', async () => {
      const [a, b] = (await nodes(2)) as [Node, Node];
      const channel = fresh('presence-nodes');
      await a.broker.subscribe(channel);
      await b.broker.subscribe(channel);
      const cy = { id: 'cy', info: 1 };
      await a.broker.presenceAdd(channel, cy);
      await b.broker.presenceAdd(channel, cy);
      await waitFor(() => a.host.presenceOn(channel).length === 1 && b.host.presenceOn(channel).length === 1, { what: 'the join on both nodes' });
      expect(await a.broker.members(channel)).toEqual([cy]);
      expect(await b.broker.members(channel)).toEqual([cy]);
      await a.broker.presenceRemove(channel, cy);
      // cy is still present through b: a marker user shows that nothing else was published meanwhile.
      await a.broker.presenceAdd(channel, { id: 'marker' });
      await waitFor(() => b.host.presenceOn(channel).includes('join:marker'), { what: 'the marker join' });
      expect(b.host.presenceOn(channel)).toEqual(['join:cy', 'join:marker']);
      await b.broker.presenceRemove(channel, cy);
      for (const { host } of [a, b]) {
        await waitFor(() => host.presenceOn(channel).includes('leave:cy'), { what: 'the leave on both nodes' });
        expect(host.presenceOn(channel)).toEqual(['join:cy', 'join:marker', 'leave:cy']);
      }
      expect(await b.broker.members(channel)).toEqual([{ id: 'marker' }]);
    });

    it("a closing node's presence leaves and its sessions lose their owner", async () => {
      const [a, b] = (await nodes(2)) as [Node, Node];
      const channel = fresh('close-node');
      await b.broker.subscribe(channel);
      await a.broker.presenceAdd(channel, { id: 'dee' });
      await a.broker.claimSession('sid-of-a');
      await waitFor(() => b.host.presenceOn(channel).includes('join:dee'), { what: 'the join' });
      expect(await ownerSeenBy(b.broker, 'sid-of-a')).toBe(a.broker.nodeId);
      await a.broker.close();
      await waitFor(() => b.host.presenceOn(channel).includes('leave:dee'), { what: 'the leave' });
      expect(await b.broker.members(channel)).toEqual([]);
      expect(await ownerSeenBy(b.broker, 'sid-of-a')).toBeUndefined();
    });

    it('records which live node holds a session: claim, hand over, release', async () => {
      const [a, b] = (await nodes(2)) as [Node, Node];
      expect(a.broker.nodeId).not.toBe(b.broker.nodeId);
      expect(a.broker.distributed && b.broker.distributed).toBe(true);
      await a.broker.claimSession('s1');
      expect(await ownerSeenBy(b.broker, 's1')).toBe(a.broker.nodeId);
      expect(await ownerSeenBy(a.broker, 's1')).toBeUndefined(); // its own: nobody else to ask
      // Handed to b: a's late release must not undo b's claim.
      await b.broker.claimSession('s1');
      await a.broker.releaseSession('s1');
      expect(await ownerSeenBy(a.broker, 's1')).toBe(b.broker.nodeId);
      await b.broker.releaseSession('s1');
      expect(await ownerSeenBy(a.broker, 's1')).toBeUndefined();
      expect(await ownerSeenBy(b.broker, 's1')).toBeUndefined();
    });

    it('keeps how a session ended for other nodes, until its TTL', async () => {
      const [a, b] = (await nodes(2)) as [Node, Node];
      const record = { code: 'session_expired', message: 'no transport for 30000 ms', ack: 7, tokenHash: 'ab'.repeat(32) };
      expect(await b.broker.endedSession('gone')).toBeUndefined();
      await a.broker.endSession('gone', record, 1500);
      await a.broker.endSession('brief', record, 1);
      expect(await b.broker.endedSession('gone')).toEqual(record);
      const expired = (sid: string) => async () => ((await b.broker.endedSession(sid)) === undefined ? true : undefined);
      await eventually(expired('brief'), 'a 1 ms record to expire');
      await eventually(expired('gone'), 'a 1,500 ms record to expire');
    });

    it("sends a request to the node holding a session, found in the same step: none when it is this node's, released, or its node is gone", async () => {
      const [a, b, c] = (await nodes(3)) as [Node, Node, Node];
      await a.broker.claimSession('held-by-a');
      expect(await b.broker.requestOwner('held-by-a', { ask: 'move' }, 5_000)).toEqual({ owner: a.broker.nodeId, answer: { echo: { ask: 'move' } } });
      expect(a.host.requests).toEqual([{ message: { ask: 'move' }, from: b.broker.nodeId }]);
      expect(await a.broker.requestOwner('held-by-a', 'to myself?', 5_000)).toBeUndefined();
      expect(await b.broker.requestOwner('never-claimed', 'anyone?', 5_000)).toBeUndefined();
      a.host.answer = async () => {
        throw new WirehopError('unauthorized', 'wrong token');
      };
      expect(await rejection(c.broker.requestOwner('held-by-a', 'x', 5_000))).toMatchObject({ code: 'unauthorized', message: 'wrong token' });
      await a.broker.releaseSession('held-by-a');
      expect(await b.broker.requestOwner('held-by-a', 'still there?', 5_000)).toBeUndefined();
      await a.broker.claimSession('held-by-a');
      await a.broker.close();
      expect(await b.broker.requestOwner('held-by-a', 'after close?', 5_000)).toBeUndefined();
      expect(a.host.requests).toHaveLength(2); // 'move' and 'x': nothing reached it otherwise
    });

    it('counts the other live nodes', async () => {
      const [a, b] = (await nodes(2)) as [Node, Node];
      expect([await a.broker.otherNodes(), await b.broker.otherNodes()]).toEqual([1, 1]);
      await a.broker.close();
      expect(await b.broker.otherNodes()).toBe(0);
    });

    it('sends a request to another node and resolves with its answer or its error', async () => {
      const [a, b] = (await nodes(2)) as [Node, Node];
      expect(await a.broker.request(b.broker.nodeId, { ask: [1, 'two'] }, 5_000)).toEqual({ echo: { ask: [1, 'two'] } });
      expect(b.host.requests).toEqual([{ message: { ask: [1, 'two'] }, from: a.broker.nodeId }]);
      b.host.answer = async () => {
        throw new WirehopError('session_unknown', 'no such session here', { sid: 'x' });
      };
      const error = await rejection(a.broker.request(b.broker.nodeId, 'x', 5_000));
      expect(error).toMatchObject({ code: 'session_unknown', message: 'no such session here', detail: { sid: 'x' } });
      expect(await b.broker.request(a.broker.nodeId, null, 5_000)).toEqual({ echo: null });
    });

    it('rejects a request with timeout when the node does not answer, and fast when no such node lives', async () => {
      const [a, b] = (await nodes(2)) as [Node, Node];
      b.host.answer = () => new Promise(() => {});
      const late = await rejection(a.broker.request(b.broker.nodeId, 'hello?', 100));
      expect(late).toMatchObject({ code: 'timeout' });
      // A timeout far beyond the test's: only the missing node can end this one.
      const nobody = await rejection(a.broker.request('no-such-node', 'hello?', 3_600_000));
      expect(nobody).toMatchObject({ code: 'broker_unavailable' });
    });
  });
}

function sortById(members: Member[]): Member[] {
  return [...members].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}
