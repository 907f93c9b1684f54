/**
 * The benchmark driver: `npm run bench` (full) or `npm run bench:quick`. Each trial is one scenario
 * on one stack, in two fresh processes (server on core 0, clients on core 1) controlled over IPC.
 * Stacks are interleaved (their order rotates per scenario and repeat), every trial has a time
 * limit after which both processes are killed by pid, and results are rewritten after each trial.
 *
 * Options: --quick · --repeats N · --stacks a,b · --scenarios x,y · --cpu-prof (both processes
 * write .cpuprofile files to <out>/profiles) · --out DIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paramsFor, type Params } from './lib/config.js';
import { evaluateTargets, markdown, summarise, type Trial } from './lib/report.js';
import { Child } from './lib/rpc.js';
import { SCENARIOS } from './scenarios/index.js';
import { Unavailable, type Scenario } from './scenarios/types.js';
import { BASELINE, STACKS } from './stacks/index.js';
import { TARGETS } from './targets.js';
import { argList, argRepeats, argValue } from './lib/args.js';
import { prepareCode } from './lib/code.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

interface Options {
  params: Params;
  stacks: string[];
  scenarios: string[];
  cpuProf: boolean;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const params = paramsFor(argv.includes('--quick') ? 'quick' : 'full');
  params.repeats = argRepeats(argv, params.repeats);
  return {
    params,
    stacks: argList(argv, '--stacks', STACKS.map((s) => s.id)),
    scenarios: argList(argv, '--scenarios', SCENARIOS.map((s) => s.id)),
    cpuProf: argv.includes('--cpu-prof'),
    out: argValue(argv, '--out') ?? join(HERE, 'results'),
  };
}


/** Runs one scenario on one stack in two fresh processes; never throws. */
async function runTrial(scenario: Scenario, stack: string, rep: number, o: Options): Promise<Trial> {
  const started = Date.now();
  const profDir = join(o.out, 'profiles');
  // One directory per process: V8 writes a profile per thread (tsx's loader has its own).
  const prof = (side: string) => (o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, `${scenario.id}-${stack}-${side}-rep${rep + 1}`)}`] : []);
  const server = Child.spawn(join(HERE, 'server-process.ts'), [stack], { name: `server(${stack})`, cpu: 0, exposeGc: true, nodeFlags: prof('server') });
  const client = Child.spawn(join(HERE, 'client-process.ts'), [stack], { name: `client(${stack})`, cpu: 1, nodeFlags: prof('client') });
  const killer = setTimeout(() => {
    server.kill();
    client.kill();
  }, o.params.trialTimeoutMs + 20_000);
  const trial: Trial = { rep, scenario: scenario.id, stack, ms: 0 };
  try {
    const [url] = await Promise.all([server.call<string>('start', { port: 0 }, 20_000), client.call('errors', null, 20_000)]);
    const result = await scenario.run({ stack, params: o.params, server, client, url });
    trial.metrics = result.metrics;
    trial.details = result.details;
    trial.clientErrors = await client.call<number>('errors', null, 5_000);
  } catch (error) {
    if (error instanceof Unavailable) trial.unavailable = error.message;
    else trial.error = error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(killer);
    // Clients first, so that the server's shutdown is not seen as a failure by live clients.
    await client.stop();
    await server.stop();
    trial.ms = Date.now() - started;
  }
  return trial;
}

function describe(t: Trial, scenario: Scenario): string {
  if (t.unavailable) return `unavailable: ${t.unavailable}`;
  if (t.error) return `FAILED: ${t.error.split('\n')[0]}`;
  const parts = scenario.metrics.map((m) => `${m.key} ${(t.metrics?.[m.key] ?? Number.NaN).toFixed(m.digits)}`);
  if (t.clientErrors) parts.push(`client errors ${t.clientErrors}`);
  return parts.join(' · ');
}

/** Rotates `items` by `k`: each repeat and scenario starts with a different stack. */
function rotate<T>(items: T[], k: number): T[] {
  const n = items.length;
  return n ? items.map((_, i) => items[(i + k) % n]!) : items;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const code = prepareCode(process.argv.slice(2));
  const startedAt = new Date();
  const t0 = Date.now();
  const stacks = STACKS.filter((s) => o.stacks.includes(s.id));
  const scenarios = SCENARIOS.filter((s) => o.scenarios.includes(s.id));
  mkdirSync(o.out, { recursive: true });
  const trials: Trial[] = [];
  console.log(`wirehop bench, ${o.params.mode} mode: ${scenarios.length} scenarios × ${stacks.length} stacks × ${o.params.repeats} repeat(s)${Child.pinning ? ', processes pinned to one core each' : ''}`);

  const write = () => {
    const summary = summarise(trials, scenarios, stacks, BASELINE);
    const targets = evaluateTargets(summary, TARGETS);
    const meta = {
      mode: o.params.mode,
      startedAt: startedAt.toISOString(),
      durationS: (Date.now() - t0) / 1000,
      node: process.version,
      cpus: cpus().length,
      pinned: Child.pinning,
      code,
      repeats: o.params.repeats,
      baseline: BASELINE,
      notes: [
        'Server and clients share one 2-core machine with whatever else runs on it: treat single runs as indicative, compare within a run, and look at the spread.',
        ...(o.params.mode === 'quick' ? ['Quick mode: fewer clients and messages than the specification and a single repeat; figures are preliminary.'] : []),
      ],
    };
    const json = { ...meta, params: o.params, stacks, scenarios: scenarios.map(({ id, title, metrics }) => ({ id, title, metrics })), summary, targets, trials };
    writeFileSync(join(o.out, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
    writeFileSync(join(o.out, 'latest.md'), markdown(meta, summary, scenarios, stacks, targets, trials));
  };

  for (let rep = 0; rep < o.params.repeats; rep++) {
    for (const [si, scenario] of scenarios.entries()) {
      const ids = rotate(
        stacks.map((s) => s.id).filter((id) => scenario.appliesTo?.(id) ?? true),
        rep + si,
      );
      for (const stack of ids) {
        const trial = await runTrial(scenario, stack, rep, o);
        trials.push(trial);
        console.log(`[${rep + 1}/${o.params.repeats}] ${scenario.id.padEnd(9)} ${stack.padEnd(12)} ${(trial.ms / 1000).toFixed(1).padStart(5)} s  ${describe(trial, scenario)}`);
        write();
      }
    }
  }
  write();
  console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s → ${join(o.out, 'latest.md')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
