#!/usr/bin/env node
// Runs pnpm without assuming it is installed: a fresh machine has only Node and npm, and corepack
// may refuse to fetch pnpm, so we prefer a pnpm on PATH and otherwise use the pinned one through npx.
import { spawnSync } from 'node:child_process';

const PINNED = 'pnpm@10.34.8';
const args = process.argv.slice(2);
const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8', shell: process.platform === 'win32' });
const usePath = onPath.status === 0 && /^10\./.test(onPath.stdout.trim());
const [cmd, cmdArgs] = usePath ? ['pnpm', args] : ['npx', ['-y', PINNED, ...args]];
const run = spawnSync(cmd, cmdArgs, { stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(run.status ?? 1);
