/**
 * test/helpers/redis.ts and scripts/system-deps.mjs: the multi-node tests rely on a private Redis
 * that starts, answers, can be crashed and comes back on the same port, with or without its data.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { findExecutable } from './bin.js';
import { redisCommand, startRedis, type RedisServer } from './redis.js';
import { pidAlive } from './process.js';

const started: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.stop()));
});

describe('scripts/system-deps.mjs', () => {
  it('finds every system program the suite starts, redis-server included', () => {
    // Exits non-zero (or installs, as root on Debian) when one is missing; either way redis-server is then there.
    execFileSync(process.execPath, ['scripts/system-deps.mjs'], { stdio: 'pipe' });
    expect(findExecutable('redis-server', ['/usr/bin/redis-server'], 'apt-get install redis-server')).toMatch(/redis-server$/);
  });
});

describe('startRedis', () => {
  it('answers on its own port, survives a crash by restarting on the same port, and starts empty without persistence', async () => {
    const redis = await startRedis();
    started.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await redisCommand(redis.port, ['PING'])).toBe('PONG');
    expect(await redisCommand(redis.port, ['SET', 'k', 'v'])).toBe('OK');
    expect(await redisCommand(redis.port, ['GET', 'k'])).toBe('v');

    const firstPid = redis.pid;
    await redis.kill();
    expect(pidAlive(firstPid)).toBe(false);
    await expect(redisCommand(redis.port, ['PING'])).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await redis.restart();
    expect(redis.pid).not.toBe(firstPid);
    expect(await redisCommand(redis.port, ['PING'])).toBe('PONG');
    expect(await redisCommand(redis.port, ['GET', 'k'])).toBeNull();
  });

  it('with appendonly keeps acknowledged writes across a SIGKILL', async () => {
    const redis = await startRedis({ appendonly: true });
    started.push(redis);
    expect(await redisCommand(redis.port, ['RPUSH', 'log', 'a', 'b', 'c'])).toBe(3);
    await redis.kill('SIGKILL');
    await redis.restart();
    expect(await redisCommand(redis.port, ['LRANGE', 'log', '0', '-1'])).toEqual(['a', 'b', 'c']);
  });

  it('decodes error replies as values and stop() is idempotent, ends the process and removes its dir', async () => {
    const redis = await startRedis();
    const reply = await redisCommand(redis.port, ['NOSUCHCOMMAND']);
    expect(reply).toBeInstanceOf(Error);
    expect((reply as Error).message).toMatch(/unknown command/i);
    const { pid, dir } = redis;
    await Promise.all([redis.stop(), redis.stop()]);
    await redis.stop();
    expect(pidAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(redis.restart()).rejects.toThrow(/after stop/);
  });
});
