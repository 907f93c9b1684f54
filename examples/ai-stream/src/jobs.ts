/**
 * Paced jobs keyed by id, each run at most once. A job emits `count` steps at a steady pace; asking
 * for a key that already exists returns the existing job instead of starting it again. This is what
 * keeps a reconnecting client (or one retrying a request whose reply it lost) from making the server
 * generate the same answer twice: the stream belongs to the request id, not to a connection.
 */

/** What a job does at each step; `index` runs from 0 to `count - 1`, then `done` is called once. */
export interface JobSpec {
  /** Whose job this is: the unit of `maxRunningPerOwner`. */
  owner: string;
  /** Number of steps. */
  count: number;
  step(index: number): void;
  done?(): void;
}

/** A job's progress, as {@link Jobs.get} reports it. */
export interface JobState {
  readonly key: string;
  readonly owner: string;
  readonly count: number;
  /** Steps emitted so far. */
  readonly emitted: number;
  readonly finished: boolean;
}

export interface JobsOptions {
  /** Time between two steps, in ms. */
  intervalMs: number;
  /** Jobs that may run at once, over all owners. Default 100. */
  maxRunning?: number;
  /** Jobs one owner may run at once. Default 2. */
  maxRunningPerOwner?: number;
  /** Finished jobs remembered (so a late duplicate is still recognised); the oldest go first. Default 1,000. */
  maxFinished?: number;
  /** Where an error thrown by `step` or `done` goes; the job carries on. Default console.error. */
  onError?: (error: unknown) => void;
}

/** Why {@link Jobs.start} refused a new job. */
export type JobRefusal = 'busy' | 'owner_busy' | 'closed';

interface Job extends JobState {
  emitted: number;
  finished: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The registry; one per kind of job, so that each kind has its own pace and limits. */
export class Jobs {
  readonly intervalMs: number;
  readonly maxRunning: number;
  readonly maxRunningPerOwner: number;
  readonly maxFinished: number;
  readonly #onError: (error: unknown) => void;
  /** Jobs ever started (a key asked for again does not count). */
  started = 0;
  // Insertion order is start order: the first finished job found is the oldest.
  readonly #jobs = new Map<string, Job>();
  #running = 0;
  #finished = 0;
  #closed = false;

  constructor({ intervalMs, maxRunning = 100, maxRunningPerOwner = 2, maxFinished = 1_000, onError = console.error }: JobsOptions) {
    for (const [name, value] of Object.entries({ intervalMs, maxRunning, maxRunningPerOwner, maxFinished })) {
      if (!Number.isInteger(value) || value < (name === 'intervalMs' ? 0 : 1)) {
        throw new RangeError(`${name} must be an integer ≥ ${name === 'intervalMs' ? 0 : 1}, got ${value}`);
      }
    }
    this.intervalMs = intervalMs;
    this.maxRunning = maxRunning;
    this.maxRunningPerOwner = maxRunningPerOwner;
    this.maxFinished = maxFinished;
    this.#onError = onError;
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /** The job under `key`, running or finished, or undefined. */
  get(key: string): JobState | undefined {
    return this.#jobs.get(key);
  }

  /**
   * Starts the job under `key` unless it exists: `{ job, started: true }` for a new job,
   * `{ job, started: false }` for an existing one (running or finished; `spec` is then ignored),
   * or `{ refused }` when a limit is reached or the registry is closed.
   */
  start(key: string, spec: JobSpec): { job: JobState; started: boolean } | { refused: JobRefusal } {
    if (!Number.isInteger(spec.count) || spec.count < 1) throw new RangeError(`a job needs count ≥ 1, got ${spec.count}`);
    const existing = this.#jobs.get(key);
    if (existing) return { job: existing, started: false };
    if (this.#closed) return { refused: 'closed' };
    if (this.#running >= this.maxRunning) return { refused: 'busy' };
    if (this.#runningOf(spec.owner) >= this.maxRunningPerOwner) return { refused: 'owner_busy' };
    const job: Job = { key, owner: spec.owner, count: spec.count, emitted: 0, finished: false, timer: undefined };
    this.#jobs.set(key, job);
    this.#running++;
    this.started++;
    this.#schedule(job, spec, performance.now());
    return { job, started: true };
  }

  /** Stops every running job (no more steps, no `done`) and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const job of this.#jobs.values()) clearTimeout(job.timer);
  }

  /**
   * Step i is due at start + (i + 1)·interval, measured from the start rather than from the previous
   * step, so timer lateness does not add up over a long answer.
   */
  #schedule(job: Job, spec: JobSpec, startedAt: number): void {
    const due = startedAt + (job.emitted + 1) * this.intervalMs;
    job.timer = setTimeout(() => {
      if (this.#closed) return;
      // A throwing callback must neither crash the process (this is a timer) nor leave the job
      // stuck half-way with its slot taken.
      this.#guard(() => spec.step(job.emitted));
      job.emitted++;
      if (job.emitted < job.count) return this.#schedule(job, spec, startedAt);
      this.#finish(job);
      this.#guard(() => spec.done?.());
    }, Math.max(0, due - performance.now()));
  }

  #finish(job: Job): void {
    job.finished = true;
    job.timer = undefined;
    this.#running--;
    this.#finished++;
    if (this.#finished <= this.maxFinished) return;
    for (const [key, old] of this.#jobs) {
      if (!old.finished) continue;
      this.#jobs.delete(key);
      this.#finished--;
      break;
    }
  }

  #guard(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#onError(error);
    }
  }

  #runningOf(owner: string): number {
    let n = 0;
    for (const job of this.#jobs.values()) if (!job.finished && job.owner === owner) n++;
    return n;
  }
}
