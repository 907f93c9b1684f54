/**
 * One wirehop node of the cluster benchmark, started by test/helpers/node-process.ts (startNode):
 * listens on 127.0.0.1:$PORT, prints its ready line, ends on SIGTERM. $BROKER is `memory` (the
 * default in-memory broker) or `redis` (createRedisBroker on $REDIS_URL, node id $NODE_ID).
 *
 * The server half is the main benchmark's wirehop stack (channel `bench`, event `b`, default
 * options), and publications are paced by the fan-out scenario's own `broadcast` task, so a
 * delivery here costs what it costs there; only the broker and the number of nodes change.
 * Each payload carries its sequence number and the publish time on the system-wide monotonic
 * clock (lib/clock.ts), which the client process reads too.
 *
 * Control API, on the node's own port (not through the balancer):
 * - `POST /bench/broadcast {count, ratePerSec, maxMs}` → `{sent, startAt, endAt}` once all are issued
 * - `GET /bench/state` → `{sessions, publishFailed, errors}`
 */
import { createRedisBroker } from '@wirehop/redis';
import { createWirehop } from '@wirehop/server';
import { Hono } from 'hono';
import { fanoutServerTasks } from '../scenarios/fanout.js';
import type { BenchServer } from '../stacks/types.js';

const CHANNEL = 'bench';
const EVENT = 'b';
/** A node left behind (its parent killed with SIGKILL) ends itself after this, whatever it does. */
const LIFETIME_MS = 15 * 60_000;

const nodeId = process.env.NODE_ID ?? 'node';
const useRedis = process.env.BROKER === 'redis';
let errors = 0;
let publishFailed = 0;

const wh = createWirehop({
  ...(useRedis ? { broker: createRedisBroker({ url: process.env.REDIS_URL, nodeId }) } : {}),
  onError: (error, where) => {
    if (errors++ < 5) process.stderr.write(`[${nodeId}] ${where.phase}: ${String(error)}\n`);
  },
});
wh.channel(CHANNEL);

/** What the fan-out scenario's broadcast task drives: one publish per call, failures counted. */
const server: BenchServer = {
  start: () => Promise.reject(new Error('the node listens by itself')),
  broadcast(data) {
    wh.publish(CHANNEL, EVENT, data).catch(() => void publishFailed++);
  },
  get connections() {
    return wh.sessionCount;
  },
  close: () => wh.close(),
};

interface BroadcastArgs {
  count: number;
  ratePerSec: number;
  maxMs: number;
}

/** What the broadcast task answers: publications issued, and when the first and last were. */
export interface BroadcastResult {
  sent: number;
  startAt: number;
  endAt: number;
}

const control = new Hono();
control.post('/bench/broadcast', async (c) => {
  const args = await c.req.json<BroadcastArgs>();
  return c.json((await fanoutServerTasks.broadcast({ server }, args)) as BroadcastResult);
});
control.get('/bench/state', (c) => c.json({ sessions: wh.sessionCount, publishFailed, errors }));

const { port } = await wh.listen({ port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1', app: control });
process.stdout.write(`${JSON.stringify({ ready: true, port, pid: process.pid })}\n`);

const end = (code: number) => void wh.close().finally(() => process.exit(code));
process.once('SIGTERM', () => end(0));
setTimeout(() => process.exit(3), LIFETIME_MS).unref();
// Orphaned (the benchmark was killed): the parent's exit hooks never ran, so end here.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) end(4);
}, 1_000).unref();
