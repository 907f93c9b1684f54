/**
 * The setup scenario's client side, taken apart: the scenario's own stacks and connectMany()
 * (scenarios/common.ts), with the server half in a child process (core 0) and the clients in this
 * one (core 1): N connections, 50 at a time, each counted once the stack says it can carry
 * messages, after a warm-up of 100. Prints the rate, this process's CPU per connection (user +
 * system) and, where /proc/self/io exists, its write and read system calls per connection.
 * Run the kinds interleaved, several times: single runs swing by a tenth (bench/README.md).
 * Usage: npx tsx bench/setup-harness.ts ws|wirehop-ws|wirehop [connections=1000]
 */
import { existsSync, readFileSync } from 'node:fs';
import { exitWithParent, forkPinnedServer } from './lib/harness.js';
import { connectMany } from './scenarios/common.js';
import type { ClientEnv } from './scenarios/types.js';
import { stackById } from './stacks/index.js';

const KINDS = ['ws', 'wirehop-ws', 'wirehop'];
const CONCURRENCY = 50;
const WARMUP = 100;

if (process.argv[2] === 'serve') {
  exitWithParent();
  const server = stackById(process.argv[3]!).server();
  process.send!({ url: await server.start(0) });
} else await measure(process.argv[2]!, Number(process.argv[3] ?? 1000));

/** System calls of this process so far, or undefined where the kernel does not say. */
function syscalls(): { writes: number; reads: number } | undefined {
  if (!existsSync('/proc/self/io')) return undefined;
  const io = Object.fromEntries(readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((line) => line.split(': ')));
  return { writes: Number(io.syscw), reads: Number(io.syscr) };
}

async function measure(kind: string, count: number): Promise<void> {
  if (!KINDS.includes(kind)) throw new Error(`kind: ${KINDS.join(', ')}`);
  const { server, url } = await forkPinnedServer(new URL(import.meta.url), ['serve', kind]);
  const env: ClientEnv = { client: stackById(kind).client(), connections: [] };
  const run = async (n: number) => {
    const io = syscalls();
    const cpu = process.cpuUsage();
    const r = await connectMany(env, { url, count: n, concurrency: CONCURRENCY, timeoutMs: 60_000 });
    if (r.connected !== n) throw new Error(`${r.connected} of ${n} connected (${r.firstError})`);
    const { user, system } = process.cpuUsage(cpu);
    const after = syscalls();
    const per = (x: number) => Number((x / n).toFixed(2));
    return {
      rate: Math.round((n / r.elapsedMs) * 1000),
      cpuUsPerConnection: Math.round((user + system) / n),
      writesPerConnection: io && after ? per(after.writes - io.writes) : undefined,
      readsPerConnection: io && after ? per(after.reads - io.reads) : undefined,
    };
  };
  await run(WARMUP); // the first connections load lazily required code
  await new Promise((ok) => setTimeout(ok, 300));
  console.log(kind, JSON.stringify(await run(count)));
  for (const c of env.connections) c.close();
  server.kill();
  process.exit(0);
}
