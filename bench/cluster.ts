/**
 * The cluster fan-out benchmark: `npm run bench:cluster` (full) or `npm run bench:cluster:quick`.
 * wirehop's fan-out with 1 node on the in-memory broker, 1 node on Redis, and 3 nodes on Redis
 * behind a round-robin TCP balancer; each trial in fresh processes, topologies interleaved, results
 * rewritten after every trial to <out>/cluster-latest.json and .md. See bench/README.md.
 *
 * Options: --quick · --repeats N · --topologies memory-1,redis-3 · --direct (clients connect to the
 * nodes themselves, no balancer) · --no-pin · --out DIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASELINE_TOPOLOGY, TOPOLOGIES, clusterParamsFor, type ClusterParams } from './cluster/config.js';
import { clusterMarkdown, summariseCluster, type ClusterMeta } from './cluster/report.js';
import { canPin, pin } from './cluster/topology.js';
import { argList, argRepeats, argValue } from './lib/args.js';
import { CLIENT_STACK, runClusterTrial, type ClusterTrial } from './cluster/trial.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

interface Options {
  params: ClusterParams;
  topologies: string[];
  pin: boolean;
  direct: boolean;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const params = clusterParamsFor(argv.includes('--quick') ? 'quick' : 'full');
  params.repeats = argRepeats(argv, params.repeats);
  const topologies = argList(argv, '--topologies', TOPOLOGIES.map((t) => t.id as string));
  return { params, topologies, pin: canPin && !argv.includes('--no-pin'), direct: argv.includes('--direct'), out: argValue(argv, '--out') ?? join(HERE, 'results') };
}

/** Rotates `items` by `k`, so that each repeat starts with another topology. */
const rotate = <T>(items: readonly T[], k: number): T[] => items.map((_, i) => items[(i + k) % items.length]!);

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const p = o.params;
  // Ctrl-C or a kill: exit through process.exit, so that the helpers' exit hooks end the nodes and Redis.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  // The balancer runs in this process: it belongs with the server side, on core 0.
  if (o.pin) pin(process.pid, 0);
  const topologies = TOPOLOGIES.filter((t) => o.topologies.includes(t.id));
  const startedAt = new Date();
  const t0 = Date.now();
  const trials: ClusterTrial[] = [];
  mkdirSync(o.out, { recursive: true });
  console.log(
    `wirehop cluster bench, ${p.mode} mode: ${topologies.map((t) => t.id).join(', ')} × ${p.repeats} repeat(s), ${p.clients} clients` +
      (o.direct ? ', clients straight to the nodes' : ', clients through the balancer') +
      (o.pin ? ', server side on core 0, clients on core 1' : ', not pinned'),
  );

  const write = () => {
    const summary = summariseCluster(trials, topologies);
    const meta: ClusterMeta = {
      mode: p.mode,
      startedAt: startedAt.toISOString(),
      durationS: (Date.now() - t0) / 1000,
      node: process.version,
      cpus: cpus().length,
      pinned: o.pin,
      direct: o.direct,
      repeats: p.repeats,
      clients: p.clients,
      moderateOffered: p.moderateOffered,
      saturatedOffered: p.saturatedOffered,
      notes: [
        `${cpus().length} cores for everything: Redis, every wirehop node and the balancer share ${o.pin ? 'one core' : 'the cores with the clients'}, so the 3-node figures measure what coordination through Redis costs, not what 3 machines would carry.`,
        'The machine is shared with other work (tests, builds): compare topologies within this run, look at the spread, repeat before concluding.',
        'Publications are issued from node 1 only; every delivery of the Redis topologies, local clients included, goes through Redis pub/sub.',
        ...(p.mode === 'quick' ? ['Quick mode: 100 clients, short phases; figures are indicative only.'] : []),
      ],
    };
    const json = { ...meta, baseline: BASELINE_TOPOLOGY, clientStack: CLIENT_STACK, params: p, topologies, summary, trials };
    writeFileSync(join(o.out, 'cluster-latest.json'), JSON.stringify(json, null, 2) + '\n');
    writeFileSync(join(o.out, 'cluster-latest.md'), clusterMarkdown(meta, summary, topologies, trials));
  };

  run: for (let rep = 0; rep < p.repeats; rep++) {
    for (const topology of rotate(topologies, rep)) {
      if (Date.now() - t0 > p.runBudgetMs) {
        console.log(`run budget of ${p.runBudgetMs / 1000} s spent: no more trials`);
        break run;
      }
      const trial = await runClusterTrial(topology, rep, p, o.pin, o.direct);
      trials.push(trial);
      const m = trial.metrics;
      const f = (k: string, d = 0) => (m?.[k] ?? Number.NaN).toFixed(d);
      console.log(
        `[${rep + 1}/${p.repeats}] ${topology.id.padEnd(8)} ${(trial.ms / 1000).toFixed(1).padStart(5)} s  ` +
          (trial.error
            ? `FAILED: ${trial.error.split('\n')[0]}`
            : `sat ${f('satRate')} msg/s · mod p50 ${f('modP50')} µs p99 ${f('modP99')} µs · lost ${f('satLost')}+${f('modLost')} dup ${f('satDup')}+${f('modDup')} reord ${f('satReord')}+${f('modReord')} · cpu/delivery ${f('satCpu', 2)} µs`),
      );
      write();
    }
  }
  write();
  console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s → ${join(o.out, 'cluster-latest.md')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
