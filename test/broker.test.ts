/**
 * The broker conformance suite against both brokers (the in-memory one is a single node; the Redis
 * one runs as 3 nodes on one private redis-server), then what only the Redis broker has: reaping a
 * node whose liveness lapsed, failing fast while Redis is down, and coming back by itself after
 * Redis restarted empty.
 */
import { WirehopError, type Json } from '@wirehop/protocol';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from '@wirehop/redis';
import { MemoryBroker } from '@wirehop/server';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerConformance, eventually, ownerSeenBy, RecordingHost } from './broker-conformance.js';
import { redisCommand, startRedis, type RedisServer } from './helpers/redis.js';
import { waitFor } from './helpers/wait.js';

let shared: RedisServer;
beforeAll(async () => {
  shared = await startRedis();
});
afterAll(() => shared?.stop());

let prefixCounter = 0;
/** Each group of nodes gets its own key prefix: groups on one Redis never see each other. */
const freshPrefix = () => `wh-test-${process.pid}-${++prefixCounter}:`;

brokerConformance('MemoryBroker', async () => ({ brokers: [new MemoryBroker()], cleanup: async () => {} }), { maxNodes: 1 });

brokerConformance(
  'RedisBroker',
  async (count) => {
    const prefix = freshPrefix();
    // A node TTL well above any pause a loaded test machine makes, so no live node is reaped here.
    const brokers = Array.from({ length: count }, () => createRedisBroker({ url: shared.url, prefix, nodeTtlMs: 2_000 }));
    return { brokers, cleanup: async () => {} };
  },
  { maxNodes: 3 },
);

const KEEP = { size: 100, ttlMs: 60_000 };

async function rejection(promise: Promise<unknown>): Promise<WirehopError> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(WirehopError);
  return outcome as WirehopError;
}

async function startNode(options: RedisBrokerOptions): Promise<{ broker: RedisBroker; host: RecordingHost }> {
  const broker = createRedisBroker(options);
  const host = new RecordingHost();
  await broker.start(host);
  return { broker, host };
}

/**
 * A TCP relay to Redis that can cut a node off: `cut()` resets every open connection and every new
 * one, `heal()` lets them through again. A partition between one node and Redis, the others unaffected.
 */
async function startRelay(targetPort: number) {
  let open = true;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    if (!open) return client.resetAndDestroy();
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    heal() {
      open = true;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('RedisBroker across failures', () => {
  it('reaps a node whose liveness lapsed, and a reaped node that is in fact alive puts itself back', async () => {
    const prefix = freshPrefix();
    // Node a reaches Redis through a relay, so that it can be cut off without a word to Redis.
    const relay = await startRelay(shared.port);
    const a = await startNode({ url: relay.url, prefix, nodeTtlMs: 300, errorIntervalMs: 3_600_000 });
    const b = await startNode({ url: shared.url, prefix, nodeTtlMs: 300 });
    try {
      const channel = 'reap-me';
      await b.broker.subscribe(channel);
      await a.broker.presenceAdd(channel, { id: 'eve', info: { n: 1 } });
      await a.broker.claimSession('sid-a');
      await waitFor(() => b.host.presenceOn(channel).includes('join:eve'), { what: 'the join' });
      expect(await ownerSeenBy(b.broker, 'sid-a')).toBe(a.broker.nodeId);

      relay.cut();
      await waitFor(() => b.host.presenceOn(channel).includes('leave:eve'), { what: "the dead node's leave" });
      // The leave is published by the same script that removes the rest, so all of it is gone now.
      expect(await b.broker.members(channel)).toEqual([]);
      expect(await ownerSeenBy(b.broker, 'sid-a')).toBeUndefined();
      expect(await redisCommand(shared.port, ['EXISTS', `${prefix}s:sid-a`])).toBe(0);
      expect(await redisCommand(shared.port, ['SISMEMBER', `${prefix}nodes`, a.broker.nodeId])).toBe(0);
      expect(await redisCommand(shared.port, ['EXISTS', `${prefix}pn:${a.broker.nodeId}`])).toBe(0);

      // a was only cut off: back, it re-registers, restores its presence and claims, and says so.
      relay.heal();
      await waitFor(() => a.host.reconnects === 1, { what: 'reconnected() on a' });
      await waitFor(() => b.host.presenceOn(channel).length === 3, { what: 'the join again' });
      expect(b.host.presenceOn(channel)).toEqual(['join:eve', 'leave:eve', 'join:eve']);
      expect(await b.broker.members(channel)).toEqual([{ id: 'eve', info: { n: 1 } }]);
      expect(await ownerSeenBy(b.broker, 'sid-a')).toBe(a.broker.nodeId);
      expect(b.host.errors).toEqual([]);
      expect(a.host.errors).toHaveLength(1);
    } finally {
      await a.broker.close();
      await b.broker.close();
      await relay.close();
    }
  });

  it('fails fast with broker_unavailable while Redis is down, then reconnects by itself on a new epoch', async () => {
    const redis = await startRedis();
    const prefix = freshPrefix();
    // Timeouts far beyond the test's own: a rejection can only come from the connection state.
    const options = { url: redis.url, prefix, nodeTtlMs: 1_000, commandTimeoutMs: 3_600_000, errorIntervalMs: 3_600_000 };
    const a = await startNode(options);
    const b = await startNode(options);
    try {
      const channel = 'outage';
      await b.broker.subscribe(channel);
      const before = await a.broker.publish(channel, 'before', KEEP);
      await a.broker.presenceAdd(channel, { id: 'fay' });
      await a.broker.claimSession('sid-f');
      await waitFor(() => b.host.on(channel).length === 1 && b.host.presenceOn(channel).length === 1, { what: 'publication and join' });

      await redis.kill();
      expect((await rejection(a.broker.publish(channel, 'lost', KEEP))).code).toBe('broker_unavailable');
      expect((await rejection(a.broker.history(channel, before, 10))).code).toBe('broker_unavailable');
      expect((await rejection(b.broker.subscribe('another'))).code).toBe('broker_unavailable');
      expect((await rejection(b.broker.requestOwner('sid-f', 'who holds it?', 3_600_000))).code).toBe('broker_unavailable');
      expect((await rejection(b.broker.request(a.broker.nodeId, 'hi' as Json, 3_600_000))).code).toBe('broker_unavailable');
      await waitFor(() => a.host.errors.length > 0 && b.host.errors.length > 0, { what: 'connection errors reported' });

      await redis.restart();
      await waitFor(() => a.host.reconnects === 1 && b.host.reconnects === 1, { what: 'reconnected() on both nodes' });
      const after = await a.broker.publish(channel, 'after', KEEP);
      expect(after.epoch).not.toBe(before.epoch);
      expect(after.offset).toBe(1);
      // b's subscription is back: the new epoch's first publication reaches it.
      await waitFor(() => b.host.on(channel).some((p) => p.epoch === after.epoch), { what: 'the publication after the restart' });
      expect(b.host.on(channel).map((p) => [p.offset, p.payload])).toEqual([[1, 'before'], [1, 'after']]);
      // Redis came back empty; the nodes put back what they hold.
      expect(await b.broker.members(channel)).toEqual([{ id: 'fay' }]);
      expect(await ownerSeenBy(b.broker, 'sid-f')).toBe(a.broker.nodeId);
      // However many connection attempts failed, one report per errorIntervalMs.
      for (const host of [a.host, b.host]) {
        expect(host.errors).toHaveLength(1);
        expect(host.errors[0]).toMatchObject({ code: 'broker_unavailable' });
      }
    } finally {
      await a.broker.close();
      await b.broker.close();
      await redis.stop();
    }
  });

  it('rejects after commandTimeoutMs when Redis stalls, and carries on when it resumes', async () => {
    const redis = await startRedis();
    const a = await startNode({ url: redis.url, prefix: freshPrefix(), commandTimeoutMs: 200, nodeTtlMs: 60_000 });
    try {
      process.kill(redis.pid, 'SIGSTOP');
      let stalled: WirehopError;
      try {
        stalled = await rejection(a.broker.publish('stall', 'x', KEEP));
      } finally {
        process.kill(redis.pid, 'SIGCONT');
      }
      expect(stalled).toMatchObject({ code: 'broker_unavailable' });
      expect(stalled.message).toMatch(/timed out/i);
      expect((await a.broker.publish('stall', 'y', KEEP)).offset).toBeGreaterThan(0);
    } finally {
      await a.broker.close();
      await redis.stop();
    }
  });

  it("forgets an idle channel's epoch after channelTtlMs: the next publish starts a new one", async () => {
    const prefix = freshPrefix();
    const a = await startNode({ url: shared.url, prefix, channelTtlMs: 100 });
    try {
      const first = await a.broker.publish('idle', 'x', { size: 0, ttlMs: 0 });
      expect(Number(await redisCommand(shared.port, ['PTTL', `${prefix}c:idle`]))).toBeLessThanOrEqual(100);
      await eventually(async () => ((await redisCommand(shared.port, ['EXISTS', `${prefix}c:idle`])) === 0 ? true : undefined), 'the channel to expire');
      const next = await a.broker.publish('idle', 'y', { size: 0, ttlMs: 0 });
      expect(next.epoch).not.toBe(first.epoch);
      expect(next.offset).toBe(1);
    } finally {
      await a.broker.close();
    }
  });

  it('claims sessions for sessionTtlMs at most', async () => {
    const prefix = freshPrefix();
    const a = await startNode({ url: shared.url, prefix, sessionTtlMs: 60_000 });
    try {
      await a.broker.claimSession('s-ttl');
      const ttl = Number(await redisCommand(shared.port, ['PTTL', `${prefix}s:s-ttl`]));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      await a.broker.close();
    }
  });

  it('rejects start with broker_unavailable when Redis cannot be reached', async () => {
    const redis = await startRedis();
    const url = redis.url;
    await redis.stop();
    const broker = createRedisBroker({ url, prefix: freshPrefix(), redis: { retryStrategy: () => null } });
    const error = await rejection(broker.start(new RecordingHost()));
    expect(error.code).toBe('broker_unavailable');
    expect(error.message).toMatch(/ECONNREFUSED/);
    await broker.close();
  });
});
