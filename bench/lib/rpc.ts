/**
 * Parent ↔ child control over Node's IPC channel. The parent starts each side in its own process
 * (pinned to its own core when `taskset` exists), calls named tasks with a timeout, and kills the
 * child by pid when a call or the child's exit overruns. A child serves tasks and exits by itself
 * when told to, when the parent goes away, or when its lifetime cap is reached.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { codeConditions } from './code.js';

type Task = (args: never) => unknown;

interface Request {
  id: number;
  task: string;
  args: unknown;
}

interface Response {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HAS_TASKSET = process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

export interface SpawnOptions {
  /** Label for logs and errors. */
  name: string;
  /** Pin to this CPU (taskset -c), when available. */
  cpu?: number;
  /** Start node with --expose-gc. */
  exposeGc?: boolean;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

/** The parent's handle on one child process. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    this.exitPromise = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.on('message', (m: Response) => this.procOnMessage(m));
    proc.once('exit', (code, signal) => {
      this.exited = true;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`${name} exited (code ${code}, signal ${signal}) during a call`));
      }
      this.pending.clear();
    });
  }

  /**
   * Starts `entry` (a .ts file, run through tsx). wirehop's packages are their built `dist`, as
   * published, unless `--source` chose their TypeScript sources (code.ts).
   */
  static spawn(entry: string, args: string[], options: SpawnOptions): Child {
    const flags = [...codeConditions(), '--import', 'tsx', ...(options.exposeGc ? ['--expose-gc'] : []), ...(options.nodeFlags ?? [])];
    const argv = [...flags, entry, ...args];
    const pin = HAS_TASKSET && options.cpu !== undefined;
    const proc = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', String(options.cpu), process.execPath, ...argv] : argv, {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(options.name, proc);
  }

  static get pinning(): boolean {
    return HAS_TASKSET;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Calls a task in the child; rejects after `timeoutMs` (the caller then kills the child). */
  call<T>(task: string, args: unknown, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${task} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ id, task, args } satisfies Request);
    });
  }

  /** Asks the child to exit; kills it by pid if it has not within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    this.call('exit', null, graceMs).catch(() => undefined);
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** SIGKILL by pid. */
  kill(): void {
    if (!this.exited && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private procOnMessage(m: Response): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(`${this.name}: ${m.error}`));
  }
}

/**
 * Child side: answers the parent's calls with `tasks`. `exit` is built in. The process exits by
 * itself when the parent disconnects or after `maxLifeMs`, whatever it is doing.
 */
export function serveTasks(tasks: Record<string, Task>, maxLifeMs: number, onExit?: () => Promise<void>): void {
  if (!process.send) throw new Error('this file is a benchmark child process: run bench/run.ts instead');
  const life = setTimeout(() => {
    console.error(`[bench child ${process.pid}] lifetime cap of ${maxLifeMs} ms reached, exiting`);
    process.exit(3);
  }, maxLifeMs);
  life.unref();
  process.on('disconnect', () => process.exit(4));
  const reply = (r: Response) => process.send?.(r);
  process.on('message', (m: Request) => {
    if (m.task === 'exit') {
      void (async () => {
        try {
          await onExit?.();
        } finally {
          reply({ id: m.id, ok: true });
          process.exit(0);
        }
      })();
      return;
    }
    const task = tasks[m.task];
    if (!task) return reply({ id: m.id, ok: false, error: `no task ${m.task}` });
    Promise.resolve()
      .then(() => task(m.args as never))
      .then(
        (value) => reply({ id: m.id, ok: true, value }),
        (error: unknown) => reply({ id: m.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
}
