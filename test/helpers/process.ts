/**
 * What every helper that runs a program of its own (nginx, redis-server, a wirehop node) needs:
 * a free port, waiting for a child to exit, ending it by pid, and ending what is still running if
 * the test process exits first (a crash or a killed worker would otherwise leave it behind).
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1: bind port 0, read it, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return hasExited(child) ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends `signal` to the child by pid (nothing if it has exited), SIGKILL after `killAfterMs` if given; resolves once it exited. */
export async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals, killAfterMs?: number): Promise<void> {
  const done = exited(child);
  const send = (name: NodeJS.Signals) => {
    if (hasExited(child)) return;
    try {
      process.kill(child.pid!, name);
    } catch {
      // exited in between
    }
  };
  send(signal);
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => send('SIGKILL'), killAfterMs);
  await done;
  clearTimeout(timer);
}

/** Children still running, with the signal each gets if the test process exits first. */
const running = new Map<number, NodeJS.Signals>();
let hooked = false;

/** Ends `child` with `signal` if the test process exits while it still runs. */
export function endOnExit(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const [p, s] of running) {
        try {
          process.kill(p, s);
        } catch {
          // already gone
        }
      }
    });
  }
  running.set(pid, signal);
  void exited(child).then(() => running.delete(pid));
}
