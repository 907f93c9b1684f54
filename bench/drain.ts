/**
 * How long a rolling restart takes (docs/scaling.md, "Rolling restarts"): `npm run bench:drain`.
 * Two wirehop nodes in their own processes on one Redis (the cluster test's node script), a
 * round-robin TCP balancer and the clients in this process, half of them on WebSocket and half on
 * SSE, all subscribed to one channel that node 2 publishes to. Node 1 holds every session and gets
 * SIGTERM; the figure is the time until it exits, with the kernel's listen-overflow count over that
 * time, the sessions that ended instead of moving (gaps), and the clients whose events were not
 * exactly 1..n in order. Bounded: each run stops by itself within about a minute.
 *
 * Options: --sessions N (default 1000) · --every MS between publications (default 1000) · --repeats N (default 1)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient, type WirehopClient } from '@wirehop/client';
import { startBalancer } from '../test/helpers/balancer.js';
import { startNode } from '../test/helpers/node-process.js';
import { startRedis } from '../test/helpers/redis.js';
import { argRepeats, argValue } from './lib/args.js';

const SCRIPT = fileURLToPath(new URL('../test/helpers/fixtures/wirehop-node.ts', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** TcpExt ListenOverflows of this machine: SYNs dropped because an accept queue was full. */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const keys = lines[0]?.split(/\s+/) ?? [];
  return Number(lines[1]?.split(/\s+/)[keys.indexOf('ListenOverflows')] ?? Number.NaN);
}

async function run(sessions: number, everyMs: number) {
  const redis = await startRedis();
  const nodes = await Promise.all([1, 2].map((i) => startNode({ script: SCRIPT, env: { REDIS_URL: redis.url, NODE_ID: `n${i}` }, stopTimeoutMs: 30_000 })));
  const [n1, n2] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const lb = await startBalancer([n1.port]);
  const clients: WirehopClient[] = [];
  const got: number[][] = [];
  let gaps = 0;
  try {
    for (let k = 0; k < sessions; k++) {
      const c = createClient({ url: `${lb.url}/wirehop`, transports: [k % 2 ? 'sse' : 'websocket'], adaptive: false, auth: { user: `u${k}` } });
      const mine: number[] = [];
      got.push(mine);
      c.on('gap', () => gaps++);
      c.channel('room:1').on('n', (d) => mine.push(Number((d as { tag: string }).tag)));
      clients.push(c);
    }
    for (let k = 0; k < sessions; k += 100) await Promise.all(clients.slice(k, k + 100).map((c) => c.channel('room:1').subscribe()));
    lb.setBackends([n1.port, n2.port]);

    let published = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const tag = String(published + 1);
        await fetch(`${n2.url}/control/publish`, { method: 'POST', body: JSON.stringify({ channel: 'room:1', count: 1, tag }) });
        published++;
        await sleep(everyMs);
      }
    })();
    await sleep(1500);
    const overflows = listenOverflows();
    const t0 = performance.now();
    await n1.stop();
    const drainMs = performance.now() - t0;
    const overflowed = listenOverflows() - overflows;
    await sleep(1500);
    publishing = false;
    await publisher;
    const deadline = Date.now() + 20_000;
    while (got.some((g) => g.length < published) && Date.now() < deadline) await sleep(50);
    const wrong = got.filter((g) => g.length !== published || g.some((v, i) => v !== i + 1)).length;
    return { sessions, everyMs, drainMs, overflowed, gaps, wrong, published };
  } finally {
    for (const c of clients) c.close();
    await lb.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  }
}

const argv = process.argv.slice(2);
const sessions = Number(argValue(argv, '--sessions') ?? 1000);
const everyMs = Number(argValue(argv, '--every') ?? 1000);
const repeats = argRepeats(argv, 1);
if (!Number.isInteger(sessions) || sessions < 2 || sessions > 20_000) throw new Error('--sessions: an integer from 2 to 20000');
if (!(everyMs >= 10 && everyMs <= 60_000)) throw new Error('--every: milliseconds from 10 to 60000');
console.log('| sessions | publications every | drain (SIGTERM to exit) | listen overflows | gaps | clients with wrong events |');
console.log('|---|---|---|---|---|---|');
for (let r = 0; r < repeats; r++) {
  const x = await run(sessions, everyMs);
  console.log(`| ${x.sessions} | ${x.everyMs} ms | ${(x.drainMs / 1000).toFixed(2)} s | ${x.overflowed} | ${x.gaps} | ${x.wrong} of ${x.sessions} (${x.published} publications) |`);
}
process.exit(0);
