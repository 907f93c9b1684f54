/**
 * A private redis-server per test (Debian's /usr/bin/redis-server, or the one on PATH): its own
 * temp dir, an ephemeral port on 127.0.0.1, no persistence unless asked for. Multi-node tests need
 * a real Redis they can crash (`kill`) and bring back on the same address (`restart`), which a
 * shared system instance on 6379 could not give them. Processes are ended by pid only.
 *
 * The readiness probe speaks RESP by hand ({@link redisCommand}) so that this helper needs no
 * Redis client package: the broker's own client lives in packages/redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from './bin.js';
import { endOnExit, freePort, hasExited, signalAndWait } from './process.js';

export interface StartRedisOptions {
  /**
   * Turn the append-only file on (`--appendonly yes --appendfsync always`), so that what Redis
   * acknowledged survives `kill('SIGKILL')` + `restart()`. Default `false`: no AOF and no RDB
   * snapshots (`--save ''`), so a restart comes back empty.
   */
  appendonly?: boolean;
  /** Extra `redis-server` arguments, appended last (they override the ones above). Default none. */
  args?: string[];
  /** How long to wait for the first PONG at each start. Default 10 000 ms. */
  readyTimeoutMs?: number;
}

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>`: what a node gets as REDIS_URL. */
  url: string;
  /** The current redis-server process (a new one after `restart()`). */
  readonly pid: number;
  /** The instance's own temp dir (its AOF lives here); removed by `stop()`. */
  dir: string;
  /** What redis-server wrote to stdout/stderr since the last (re)start, for failure messages. */
  output(): string;
  /**
   * Ends redis-server (SIGTERM, SIGKILL after 5 s) and removes its dir. Idempotent: every call
   * returns the same promise (after `kill` it only removes the dir). After `stop()`, `restart()` throws.
   */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL: a crash, no shutdown save) by pid; resolves when it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts redis-server again on the same port with the same dir (ending the current process with
   * SIGTERM first if it still runs) and resolves when it answers PING. Rejects if the port was taken
   * in between.
   */
  restart(): Promise<void>;
}

/** Redis's reply to a command, decoded: simple/bulk strings, integers, null, arrays; errors as `Error`. */
export type RespValue = string | number | null | Error | RespValue[];

const encode = (args: string[]) =>
  `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');

/** Decodes one reply at `at`; undefined when `buf` does not hold all of it yet. */
function decode(buf: Buffer, at = 0): { value: RespValue; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (buf[at]) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new Error(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: { // $
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return undefined;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let end = next;
      for (let i = 0; i < n; i++) {
        const item = decode(buf, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected RESP reply: ${JSON.stringify(buf.toString('utf8', at))}`);
  }
}

/**
 * Sends one command to Redis on 127.0.0.1:`port` over a fresh connection and resolves with its
 * decoded reply (a Redis error reply resolves as an `Error` value; a socket error rejects). For
 * probes and test assertions only, e.g. `await redisCommand(port, 'GET', 'k')`.
 * @param timeoutMs Default 5 000 ms.
 */
export function redisCommand(port: number, args: string[], timeoutMs = 5_000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const finish = (error: Error | undefined, value?: RespValue) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(value!);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`redis on ${port} did not answer ${args[0]} in ${timeoutMs} ms`)));
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error(`redis on ${port} closed the connection before answering ${args[0]}`)));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        const reply = decode(buf);
        if (reply) finish(undefined, reply.value);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.write(encode(args));
  });
}

interface Launched {
  child: ChildProcess;
  output: () => string;
}

/**
 * Runs redis-server until it answers PING (PONG; `-LOADING` while it replays an AOF counts as not
 * yet) or exits. Resolves `{ child }` either way; the caller looks at whether it exited.
 */
async function launch(bin: string, args: string[], port: number, timeoutMs: number): Promise<Launched> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  let failed: Error | undefined;
  child.once('error', (error) => (failed = error));
  const output = () => log;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (failed) throw new Error(`could not start ${bin}: ${failed.message}`);
    if (hasExited(child)) return { child, output };
    const reply = await redisCommand(port, ['PING'], 1_000).catch((error: Error) => error);
    if (reply === 'PONG') return { child, output };
    if (Date.now() > deadline) {
      await signalAndWait(child, 'SIGKILL');
      throw new Error(`redis-server on ${port} did not answer PING within ${timeoutMs} ms (last: ${String(reply)}):\n${log}`);
    }
    // Not listening yet: poll again shortly. This waits for a state, it synchronises nothing.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const inUse = (log: string) => /Address already in use/i.test(log);

/**
 * Starts a private redis-server on 127.0.0.1 and resolves when it answers PING. The port is picked
 * by binding port 0 and closing it; if something takes it before Redis binds, it retries with
 * another (5 attempts).
 * @example
 * const redis = await startRedis();
 * afterAll(() => redis.stop());
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const bin = findExecutable('redis-server', ['/usr/bin/redis-server'], 'apt-get install redis-server');
  const timeoutMs = options.readyTimeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'wirehop-redis-'));
  const argsFor = (port: number) => [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--daemonize', 'no',
    '--save', '',
    ...(options.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.args ?? []),
  ];

  let launched: Launched | undefined;
  let port = 0;
  let lastLog = '';
  for (let attempt = 0; attempt < 5 && !launched; attempt++) {
    port = await freePort();
    const attemptResult = await launch(bin, argsFor(port), port, timeoutMs).catch(async (error: Error) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    });
    if (!hasExited(attemptResult.child)) launched = attemptResult;
    else {
      lastLog = attemptResult.output();
      if (!inUse(lastLog)) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`redis-server exited at start (${attemptResult.child.exitCode ?? attemptResult.child.signalCode}):\n${lastLog}`);
      }
    }
  }
  if (!launched) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`redis-server could not bind a free port in 5 attempts:\n${lastLog}`);
  }

  let current: Launched = launched;
  let stopped: Promise<void> | undefined;
  const track = (child: ChildProcess) => endOnExit(child);
  track(current.child);

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return current.child.pid!;
    },
    dir,
    output: () => current.output(),
    stop() {
      stopped ??= signalAndWait(current.child, 'SIGTERM', 5_000).then(() => rm(dir, { recursive: true, force: true }));
      return stopped;
    },
    kill: (signal = 'SIGKILL') => signalAndWait(current.child, signal),
    async restart() {
      if (stopped) throw new Error('restart() after stop(): this redis has been stopped and its dir removed');
      await signalAndWait(current.child, 'SIGTERM', 5_000);
      const next = await launch(bin, argsFor(port), port, timeoutMs);
      if (hasExited(next.child)) {
        const why = inUse(next.output()) ? `port ${port} was taken while redis was down` : 'redis-server exited at start';
        throw new Error(`restart failed: ${why}:\n${next.output()}`);
      }
      current = next;
      track(current.child);
    },
  };
}
