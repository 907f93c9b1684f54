#!/usr/bin/env node
// The test suite starts real programs: nginx (reverse-proxy tests), openssl (certificates for the
// HTTP/2 tests), Debian's Chromium (browser tests; browsers are never downloaded) and redis-server
// (multi-node tests: test/helpers/redis.ts runs private instances, never the system service). This makes
// sure they are there: on a Debian machine as root it installs what is missing with apt-get,
// anywhere else it says what to install and stops, rather than letting tests fail obscurely.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (cmd, ...paths) => paths.some((p) => existsSync(p)) || spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const wanted = [
  ['nginx', has('nginx', '/usr/sbin/nginx')],
  ['openssl', has('openssl')],
  ['chromium', existsSync('/usr/bin/chromium')],
  ['redis-server', has('redis-server', '/usr/bin/redis-server')],
];
const missing = wanted.filter(([, present]) => !present).map(([name]) => name);
if (missing.length === 0) process.exit(0);

const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root || !has('apt-get')) {
  console.error(`The tests need these system packages: ${missing.join(', ')}.`);
  console.error(`Install them (Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}) and run the tests again.`);
  process.exit(1);
}
console.log(`installing ${missing.join(', ')} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
// Debian's redis-server package enables and starts a system-wide instance on port 6379 where an
// init system runs. The tests never use it (each starts its own on an ephemeral port), so it is
// not this script's business to stop it; in containers without an init system nothing starts.
