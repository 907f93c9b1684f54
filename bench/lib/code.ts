/**
 * Which wirehop the benchmarks measure. By default the packages as published: their `dist`, built
 * by `tsc` first, so that the figures are those of what users install. Running the TypeScript
 * sources through tsx instead (`--source`) skips the build, but measures tsx's transform too
 * (every function expression wrapped to keep its name, which costs per closure created).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENV = 'WIREHOP_BENCH_CODE';

export type Code = 'dist' | 'source';

/** Builds the packages unless `argv` has `--source`; child processes inherit the choice. */
export function prepareCode(argv: string[]): Code {
  if (argv.includes('--source')) {
    process.env[ENV] = 'source';
    return 'source';
  }
  process.env[ENV] = 'dist';
  const started = Date.now();
  execFileSync(process.execPath, ['scripts/pnpm.mjs', 'run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`built the packages in ${((Date.now() - started) / 1000).toFixed(1)} s; measuring their dist`);
  return 'dist';
}

/** Node flags for a child process: the source condition unless prepareCode() built the packages. */
export function codeConditions(): string[] {
  return process.env[ENV] === 'dist' ? [] : ['--conditions=@wirehop/source'];
}
