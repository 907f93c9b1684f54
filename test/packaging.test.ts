/**
 * What users install: each package builds to dist/ with types, packs to a tarball, and installs and
 * imports in an empty project without the other side. The client's browser entry must not pull in
 * `ws` or any Node built-in.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from './helpers/redis.js';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'wirehop-pack-'));
const tarballs: Record<string, string> = {};

function run(cmd: string, args: string[], cwd: string) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });
}

function emptyProject(name: string) {
  const dir = join(work, name);
  run('mkdir', ['-p', dir], work);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  return dir;
}

beforeAll(() => {
  for (const pkg of ['protocol', 'server', 'client', 'redis']) {
    const dir = join(root, 'packages', pkg);
    rmSync(join(dir, 'dist'), { recursive: true, force: true });
    run('node', [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], dir);
    // pnpm pack rewrites workspace:* to the real version, as publishing does.
    run('node', [join(root, 'scripts/pnpm.mjs'), 'pack', '--pack-destination', work], dir);
  }
  for (const file of readdirSync(work)) {
    const m = /^wirehop-(protocol|server|client|redis)-.*\.tgz$/.exec(file);
    if (m) tarballs[m[1]!] = join(work, file);
  }
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('published packages', () => {
  it('each tarball has dist with types and no test files', () => {
    for (const name of ['protocol', 'server', 'client', 'redis']) {
      expect(tarballs[name], `${name} tarball`).toBeDefined();
      const listing = run('tar', ['-tzf', tarballs[name]!], work);
      expect(listing).toContain('package/dist/index.js');
      expect(listing).toContain('package/dist/index.d.ts');
      expect(listing).not.toMatch(/\.test\.(js|ts)/);
      const manifest = JSON.parse(run('tar', ['-xzOf', tarballs[name]!, 'package/package.json'], work));
      expect(JSON.stringify({ ...manifest.dependencies, ...manifest.peerDependencies })).not.toContain('workspace:');
    }
  });

  it('the server installs and runs without the client', () => {
    const dir = emptyProject('uses-server');
    run('npm', ['install', '--no-audit', '--no-fund', tarballs.protocol!, tarballs.server!], dir);
    expect(existsSync(join(dir, 'node_modules/@wirehop/client'))).toBe(false);
    const out = run(
      'node',
      ['--input-type=module', '-e', `
        import { createWirehop } from '@wirehop/server';
        const wh = createWirehop();
        const s = await wh.listen({ port: 0, hostname: '127.0.0.1' });
        const res = await fetch('http://127.0.0.1:' + s.port + '/wirehop/ping');
        console.log(res.status);
        await wh.close(); await s.close();
      `],
      dir,
    );
    expect(out.trim()).toBe('204');
  }, 180_000);

  it('the Redis broker installs beside the server and runs against a real redis-server', async () => {
    const dir = emptyProject('uses-redis');
    run('npm', ['install', '--no-audit', '--no-fund', tarballs.protocol!, tarballs.server!, tarballs.redis!], dir);
    const redis = await startRedis();
    try {
      const out = run('node', ['--input-type=module', '-e', `
        import { createWirehop } from '@wirehop/server';
        import { createRedisBroker } from '@wirehop/redis';
        const wh = createWirehop({ broker: createRedisBroker({ url: ${JSON.stringify(redis.url)}, nodeId: 'packed' }) });
        await wh.ready();
        const first = await wh.publish('news', 'headline', { n: 1 });
        const second = await wh.publish('news', 'headline', { n: 2 });
        const held = await wh.history('news');
        console.log(first.offset, second.offset, held.publications.map((p) => p.data.n).join(','));
        await wh.close();
      `], dir);
      expect(out.trim()).toBe('1 2 1,2');
    } finally {
      await redis.stop();
    }
  }, 180_000);

  it('the client installs and connects without the server or hono', () => {
    const dir = emptyProject('uses-client');
    run('npm', ['install', '--no-audit', '--no-fund', tarballs.protocol!, tarballs.client!], dir);
    expect(existsSync(join(dir, 'node_modules/@wirehop/server'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules/hono'))).toBe(false);
    const out = run('node', ['--input-type=module', '-e', `
      import { createClient } from '@wirehop/client';
      const c = createClient({ url: 'http://127.0.0.1:9/wirehop', autoConnect: false });
      console.log(typeof c.connect, c.state);
      c.close();
    `], dir);
    expect(out.trim()).toBe('function idle');
  }, 180_000);

  it('the client browser entry never references ws or Node built-ins', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'packages/client/package.json'), 'utf8'));
    expect(manifest.sideEffects).toBe(false);
    const browserEntry = manifest.exports['.'].default as string;
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, 'utf8');
      expect(code, file).not.toMatch(/from ['"](ws|node:[\w/]+|events|buffer|stream)['"]/);
      for (const m of code.matchAll(/from ['"](\.[^'"]+)['"]/g)) visit(resolve(file, '..', m[1]!));
    };
    visit(join(root, 'packages/client', browserEntry));
    expect(seen.size).toBeGreaterThan(3);
  });
});
