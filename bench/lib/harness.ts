/**
 * What the single-purpose harnesses (fanout-harness.ts, setup-harness.ts) share: their server half
 * runs in a child process of the same module (a stack's server, stacks/), pinned as the bench pins
 * its processes.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * Forks `module` with `args` as the server, pins it to core 0 and this process to core 1 (without
 * taskset both float, and the figures with them), and waits for the `{ url }` it sends.
 */
export async function forkPinnedServer(module: URL, args: string[]): Promise<{ server: ChildProcess; url: string }> {
  const server = fork(module, args, { execArgv: process.execArgv });
  spawnSync('taskset', ['-p', '-c', '0', String(server.pid)]);
  spawnSync('taskset', ['-p', '-c', '1', String(process.pid)]);
  const { url } = await new Promise<{ url: string }>((ok) => server.once('message', ok));
  return { server, url };
}

/** Called by the server half: it exits once the harness process is gone, even if that one failed. */
export function exitWithParent(): void {
  process.once('disconnect', () => process.exit(0));
}
