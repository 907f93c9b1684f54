/**
 * One wirehop server node in its own OS process, so that a multi-node test can crash a node for
 * real (SIGKILL: no close handlers, no flushes, sockets dropped by the kernel) and start it again on
 * the same port, which no in-process server can imitate.
 *
 * The child is `node --conditions=@wirehop/source --import <tsx loader> <script>`, started directly
 * rather than through the tsx CLI: that CLI runs the script in a second process, so the pid we hold
 * would not be the server's and a SIGKILL would orphan it. tsx's loader is resolved to a file URL,
 * so scripts run from any working directory.
 *
 * The script's contract: listen on 127.0.0.1 at `Number(process.env.PORT)` (0 = ephemeral), then
 * print one line `{"ready":true,"port":<bound port>}` on stdout; on SIGTERM close and exit.
 * test/helpers/fixtures/echo-node.ts is the smallest script that keeps it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { endOnExit, signalAndWait } from './process.js';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** `node`'s arguments to run a TypeScript script from wirehop's sources, directly (no tsx CLI process between). */
export function sourceScriptArgs(script: string, ...args: string[]): string[] {
  return ['--conditions=@wirehop/source', '--import', tsxLoader, script, ...args];
}

export interface StartNodeOptions {
  /** Path of the TypeScript (or JavaScript) entry script. */
  script: string;
  /** Added to this process's environment for the child, e.g. `{ REDIS_URL, NODE_ID }`. Default none. */
  env?: Record<string, string | undefined>;
  /** Passed as PORT. Default 0: the child picks an ephemeral port and reports it. */
  port?: number;
  /** Working directory of the child. Default this process's. */
  cwd?: string;
  /** How long to wait for the ready line at each start. Default 20 000 ms. */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before it sends SIGKILL. Default 5 000 ms. */
  stopTimeoutMs?: number;
}

/** How a node process ended. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  /** The port the node listens on; the same after `restart()`. */
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The current child's pid (a new one after `restart()`). */
  readonly pid: number;
  /** The child's stdout and stderr since the last (re)start, for failure messages. */
  output(): string;
  /** Resolves when the current child exits (at once if it has). */
  exited(): Promise<NodeExit>;
  /** Sends `signal` (default SIGKILL: a crash) by pid; resolves when the child has exited. */
  kill(signal?: NodeJS.Signals): Promise<NodeExit>;
  /** SIGTERM (graceful), SIGKILL after `stopTimeoutMs`; resolves when exited. Idempotent. */
  stop(): Promise<NodeExit>;
  /**
   * Starts the script again on the same port (stopping the current child first if it still runs)
   * and resolves when it is ready. Rejects, with the child's output, if it cannot listen there.
   */
  restart(): Promise<void>;
}


interface Launched {
  child: ChildProcess;
  port: number;
  output: () => string;
  exit: Promise<NodeExit>;
}

/** Spawns the script and resolves once it has printed its ready line; rejects on exit or timeout. */
function launch(options: StartNodeOptions, port: number): Promise<Launched> {
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const child = spawn(process.execPath, sourceScriptArgs(options.script), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const output = () => log;
  const exit = new Promise<NodeExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  endOnExit(child);
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));

  return new Promise((resolve, reject) => {
    let pending = '';
    let ready = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      void signalAndWait(child, 'SIGKILL');
      reject(new Error(`node ${options.script} ${why}:\n${log}`));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (error) => fail(`could not be started: ${error.message}`));
    void exit.then(({ code, signal }) => {
      if (!ready) fail(`exited before it was ready (${code ?? signal})`);
    });
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      log += text;
      if (ready) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue; // ordinary output
        }
        const { ready: isReady, port: bound } = (parsed ?? {}) as { ready?: unknown; port?: unknown };
        if (isReady !== true || typeof bound !== 'number') continue;
        ready = true;
        clearTimeout(timer);
        if (port !== 0 && bound !== port) fail(`reported port ${bound}, but it was told ${port}`);
        else resolve({ child, port: bound, output, exit });
        return;
      }
    });
  });
}

async function terminate(current: Launched, stopTimeoutMs: number): Promise<NodeExit> {
  await signalAndWait(current.child, 'SIGTERM', stopTimeoutMs);
  return current.exit;
}

/**
 * Starts `options.script` in a child process and resolves when it reports that it listens.
 * @example
 * const node = await startNode({ script: 'test/helpers/fixtures/echo-node.ts', env: { NODE_ID: 'a' } });
 * afterEach(() => node.stop());
 */
export async function startNode(options: StartNodeOptions): Promise<NodeProcess> {
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  let current = await launch(options, options.port ?? 0);
  const port = current.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get pid() {
      return current.child.pid!;
    },
    output: () => current.output(),
    exited: () => current.exit,
    async kill(signal = 'SIGKILL') {
      await signalAndWait(current.child, signal);
      return current.exit;
    },
    stop: () => terminate(current, stopTimeoutMs),
    async restart() {
      await terminate(current, stopTimeoutMs);
      current = await launch(options, port);
    },
  };
}
