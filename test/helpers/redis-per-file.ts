/**
 * One redis-server for a whole test file: started before its first test, stopped after its last,
 * once whatever the tests registered with `later()` has been torn down (last registered first:
 * clients before the servers they talk to, servers before Redis).
 */
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisServer } from './redis.js';

export interface FileRedis {
  /** The server's URL; only inside tests (it starts in beforeAll). */
  readonly url: string;
  /** Tears `close` down after the file's tests, before Redis stops. */
  later(close: () => unknown): void;
}

export function redisPerFile(): FileRedis {
  let redis: RedisServer | undefined;
  const closes: Array<() => unknown> = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const close of closes.reverse()) await close();
    await redis?.stop();
  });
  return {
    get url() {
      if (!redis) throw new Error('redisPerFile: Redis starts in beforeAll; read its url inside a test');
      return redis.url;
    },
    later: (close) => void closes.push(close),
  };
}
