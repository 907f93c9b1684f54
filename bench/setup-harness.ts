/**
 * The setup scenario's client side, taken apart: N connections made from this process (pinned to
 * core 1), 50 at a time, to a server in a child process (core 0), each counted once it can carry
 * messages, as the setup scenario counts them: a raw `ws` socket once open; a wirehop client once
 * its subscription is confirmed (subscribe() alone, as the README and the bench's adapter write it).
 * Prints the rate, this process's CPU per connection (user + system) and, where /proc/self/io
 * exists, its write and read system calls per connection. Connections stay open until the end.
 * Run the kinds interleaved, several times: single runs swing by a tenth (bench/README.md).
 * Usage: npx tsx bench/setup-harness.ts ws|wirehop-ws|wirehop [connections=1000]
 */
import { existsSync, readFileSync } from 'node:fs';
import { createClient } from '@wirehop/client';
import WebSocket from 'ws';
import { forkPinnedServer, serveRaw, serveWirehop } from './lib/harness.js';

type Kind = 'ws' | 'wirehop-ws' | 'wirehop';
const CONCURRENCY = 50;
const WARMUP = 100;

// The server half (lib/harness.ts): raw `ws`, or wirehop with one channel `bench`.
if (process.argv[2] === 'serve') await (process.argv[3] === 'ws' ? serveRaw() : serveWirehop());
else await measure(process.argv[2] as Kind, Number(process.argv[3] ?? 1000));

/** System calls of this process so far, or undefined where the kernel does not say. */
function syscalls(): { writes: number; reads: number } | undefined {
  if (!existsSync('/proc/self/io')) return undefined;
  const io = Object.fromEntries(readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((line) => line.split(': ')));
  return { writes: Number(io.syscw), reads: Number(io.syscr) };
}

async function measure(kind: Kind, count: number): Promise<void> {
  if (!['ws', 'wirehop-ws', 'wirehop'].includes(kind)) throw new Error('kind: ws, wirehop-ws or wirehop');
  const { server, url } = await forkPinnedServer(new URL(import.meta.url), ['serve', kind === 'ws' ? 'ws' : 'wirehop']);
  const close: Array<() => void> = [];

  const connect = async () => {
    if (kind === 'ws') {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      close.push(() => ws.terminate());
      await new Promise((ok, no) => {
        ws.once('open', ok);
        ws.once('error', no);
      });
    } else {
      const client = createClient(kind === 'wirehop' ? { url } : { url, transports: ['websocket'], adaptive: false });
      close.push(() => client.close());
      await client.channel('bench').subscribe();
    }
  };
  const run = async (n: number) => {
    let started = 0;
    const io = syscalls();
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (started < n) {
          started++;
          await connect();
        }
      }),
    );
    const ms = performance.now() - t0;
    const { user, system } = process.cpuUsage(cpu);
    const after = syscalls();
    const per = (x: number) => Number((x / n).toFixed(2));
    return {
      rate: Math.round((n / ms) * 1000),
      cpuUsPerConnection: Math.round((user + system) / n),
      writesPerConnection: io && after ? per(after.writes - io.writes) : undefined,
      readsPerConnection: io && after ? per(after.reads - io.reads) : undefined,
    };
  };
  await run(WARMUP); // the first connections load lazily required code
  await new Promise((ok) => setTimeout(ok, 300));
  console.log(kind, JSON.stringify(await run(count)));
  for (const c of close) c();
  server.kill();
  process.exit(0);
}
