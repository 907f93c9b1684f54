/**
 * A session moving between two nodes on one Redis (docs/scaling.md): the node a resume reaches
 * takes the session over from the node that holds it, and re-subscribes its channels from the
 * positions it had reached. Two wirehop servers in this process, raw protocol clients, real Redis.
 */
import { PROTOCOL_VERSION, type ServerFrame } from '@wirehop/protocol';
import { createRedisBroker, type RedisBroker } from '@wirehop/redis';
import { createWirehop, type ListeningServer, type Wirehop } from '@wirehop/server';
import { expect, it } from 'vitest';
import { rawWs, type RawWs } from './helpers/raw.js';
import { redisPerFile } from './helpers/redis-per-file.js';
import { waitFor } from './helpers/wait.js';

const CHANNELS = Array.from({ length: 20 }, (_, i) => `room:${i}`);

const redis = redisPerFile();

interface Node {
  wh: Wirehop;
  broker: RedisBroker;
  url: string;
}

async function startNode(nodeId: string, prefix: string): Promise<Node> {
  const broker = createRedisBroker({ url: redis.url, prefix, nodeId, nodeTtlMs: 2_000 });
  const wh = createWirehop({ broker, authenticate: () => ({ id: 'ada' }), onError: () => undefined }).channel('room:*', { presence: true });
  const listening: ListeningServer = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  redis.later(() => listening.close());
  return { wh, broker, url: listening.url };
}

/** Counts how many calls of `broker[method]` are under way at once, at most, from now on. */
function concurrency(broker: RedisBroker, method: 'subscribe' | 'presenceAdd'): { readonly max: number } {
  const real = (broker[method] as (...args: unknown[]) => Promise<unknown>).bind(broker);
  const seen = { now: 0, max: 0 };
  (broker as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    seen.max = Math.max(seen.max, ++seen.now);
    try {
      return await real(...args);
    } finally {
      seen.now--;
    }
  };
  return seen;
}

const events = (frames: ServerFrame[], channel: string) =>
  frames.flatMap((f) => (f.type === 'event' && f.channel === channel ? [(f.data as { i: number }).i] : []));

it('a session in 20 channels moves to another node, which re-subscribes them all at once: each channel goes on in order, nothing lost or repeated', async () => {
  const prefix = `wh-handoff-${process.pid}:`;
  const a = await startNode('a', prefix);
  const b = await startNode('b', prefix);

  const first: RawWs = await rawWs(a.url);
  first.send({ type: 'hello', v: PROTOCOL_VERSION });
  const welcome = await first.next('welcome');
  CHANNELS.forEach((channel, k) => first.send({ type: 'subscribe', seq: k + 1, channel }));
  for (const _ of CHANNELS) await first.next('reply');
  for (const channel of CHANNELS) await a.wh.publish(channel, 'n', { i: 1 });
  await waitFor(() => first.frames.filter((f) => f.type === 'event').length === CHANNELS.length);
  const delivered = Math.max(...first.frames.map((f) => ('seq' in f ? f.seq : 0)));
  // Dropped without ending the session (not 1000): it waits on node a for a resume.
  first.ws.close(4002);
  await first.closed;
  // Published while no transport is attached: node a holds these for the session.
  for (const channel of CHANNELS) await a.wh.publish(channel, 'n', { i: 2 });

  const subscribing = concurrency(b.broker, 'subscribe');
  const joining = concurrency(b.broker, 'presenceAdd');
  const second = await rawWs(b.url);
  second.send({ type: 'hello', v: PROTOCOL_VERSION, sid: welcome.sid, token: welcome.token!, ack: delivered });
  expect(await second.next('welcome')).toMatchObject({ sid: welcome.sid, resumed: true });
  await waitFor(() => b.wh.session(welcome.sid) !== undefined && a.wh.session(welcome.sid) === undefined);
  // Published through node b after the move: live on b.
  for (const channel of CHANNELS) await b.wh.publish(channel, 'n', { i: 3 });
  await waitFor(() => second.frames.filter((f) => f.type === 'event').length === 2 * CHANNELS.length);

  expect(subscribing.max).toBe(CHANNELS.length);
  expect(joining.max).toBe(CHANNELS.length);
  for (const channel of CHANNELS) {
    expect(events(first.frames, channel)).toEqual([1]);
    expect(events(second.frames, channel)).toEqual([2, 3]);
  }
  expect(second.frames.filter((f) => f.type === 'gap')).toEqual([]);
  second.ws.close(1000);
});
