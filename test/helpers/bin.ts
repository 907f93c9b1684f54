/**
 * Finding the system programs that some tests start for real (nginx, openssl). A missing one fails
 * the test with a message that says what to install, instead of an ENOENT from deep in a spawn.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The absolute path of `name`: the first of `candidates` that is executable, else the first match
 * on PATH. Throws an error naming `install` when there is none.
 * @example findExecutable('nginx', ['/usr/sbin/nginx'], 'apt-get install nginx')
 */
export function findExecutable(name: string, candidates: string[], install: string): string {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const path of [...candidates, ...onPath]) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here; try the next one
    }
  }
  throw new Error(`${name} not found (looked at ${candidates.join(', ')} and on PATH): these tests start a real ${name}; install it with \`${install}\` (.ci/run does)`);
}
