/**
 * A crash and the crowd that comes back: `npm run bench:storm`. One wirehop process (the in-memory
 * broker, so its sessions die with it) holds N clients, all in this process and subscribed to one
 * channel, with the default client options (adaptive, WebSocket first). The server is killed
 * (SIGKILL) and started again on the same port. Reported: how long until every client had a
 * session again, how their returns spread (per 250 ms after the server was back), which transport
 * each came back on and why, and the errors and session gaps the application saw. Clients first
 * connect 50 at a time, so that the start is not itself a storm. Bounded: a run stops by itself
 * within about a minute.
 *
 * Options: --clients N (default 1000) · --down MS the server stays down (default 300) · --repeats N (default 1)
 */
import { fileURLToPath } from 'node:url';
import { createClient, type WirehopClient } from '@wirehop/client';
import { startNode } from '../test/helpers/node-process.js';
import { argRepeats, argValue } from './lib/args.js';

const SCRIPT = fileURLToPath(new URL('./storm-node.ts', import.meta.url));
const BUCKET_MS = 250;
const RETURN_WITHIN_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tally = (into: Record<string, number>, key: string) => void (into[key] = (into[key] ?? 0) + 1);

async function run(n: number, downMs: number) {
  const node = await startNode({ script: SCRIPT });
  const url = `${node.url}/wirehop`;
  const clients: WirehopClient[] = [];
  /** When each client first attached after the crash (performance.now()), and how. */
  const back: Array<{ at: number; to: string; reason: string } | undefined> = [];
  const errors: Record<string, number> = {};
  let gaps = 0;
  let storm = false;
  try {
    for (let i = 0; i < n; i++) {
      const c = createClient({ url });
      c.on('error', (e) => storm && tally(errors, e.code));
      c.on('gap', () => void (storm && gaps++));
      c.on('transport', (t) => {
        if (storm && t.to && !back[i]) back[i] = { at: performance.now(), to: t.to, reason: t.reason };
      });
      clients.push(c);
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < n) {
          const c = clients[next++]!;
          await c.connect();
          await c.channel('storm').subscribe();
        }
      }),
    );
    await sleep(3000); // the probes settle
    const before: Record<string, number> = {};
    for (const c of clients) tally(before, String(c.transport));

    storm = true;
    await node.kill('SIGKILL');
    await sleep(downMs);
    await node.restart();
    const readyAt = performance.now();
    const deadline = readyAt + RETURN_WITHIN_MS;
    while (back.filter(Boolean).length < n && performance.now() < deadline) await sleep(20);
    await sleep(2000); // late switches, and the subscriptions made again
    const returned = back.filter((b): b is NonNullable<typeof b> => b !== undefined);
    // From the ready line: a client may attach a moment before this process has read it.
    const times = returned.map((b) => Math.max(0, b.at - readyAt)).sort((a, b) => a - b);
    const buckets: number[] = [];
    for (const t of times) buckets[Math.floor(t / BUCKET_MS)] = (buckets[Math.floor(t / BUCKET_MS)] ?? 0) + 1;
    const how: Record<string, number> = {};
    for (const b of returned) tally(how, `${b.to}: ${b.reason}`);
    const after: Record<string, number> = {};
    for (const c of clients) tally(after, String(c.transport));
    return {
      clients: n,
      returned: returned.length,
      allBackMs: times.length === n ? Math.round(times.at(-1)!) : null,
      p50Ms: Math.round(times[Math.floor(times.length / 2)] ?? Number.NaN),
      p95Ms: Math.round(times[Math.floor(times.length * 0.95)] ?? Number.NaN),
      peakPerBucket: Math.max(0, ...Array.from(buckets, (b) => b ?? 0)),
      perBucket: Array.from(buckets, (b) => b ?? 0),
      resubscribed: clients.filter((c) => c.channel('storm').subscribed).length,
      before,
      after,
      cameBackOn: how,
      errors,
      gaps,
    };
  } finally {
    for (const c of clients) c.close();
    await node.stop();
  }
}

const argv = process.argv.slice(2);
const n = Number(argValue(argv, '--clients') ?? 1000);
const downMs = Number(argValue(argv, '--down') ?? 300);
const repeats = argRepeats(argv, 1);
console.log(`storm: ${n} clients, server down ${downMs} ms, ${repeats} run(s); returns counted per ${BUCKET_MS} ms after the server is back`);
for (let r = 1; r <= repeats; r++) {
  const result = await run(n, downMs);
  console.log(`[${r}/${repeats}]`, JSON.stringify(result));
}
process.exit(0);
