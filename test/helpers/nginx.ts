/**
 * A real nginx (Debian's /usr/sbin/nginx, or the one on PATH) as a reverse proxy in front of a
 * wirehop server, started by the test with a generated config in a temp dir and stopped by pid.
 *
 * The `server { }` part of the config comes from {@link nginxSite}; docs/deploy.md shows its output
 * verbatim for both modes, and test/nginx.test.ts checks that it still does. Everything else in the
 * generated file (pid, logs, temp dirs, `daemon off`) exists only so that a test can run nginx
 * unprivileged-style in a temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from './bin.js';
import { endOnExit, freePort, signalAndWait } from './process.js';
import { waitFor } from './wait.js';

/**
 * `websocket`: the full config, forwarding `Upgrade`/`Connection` over HTTP/1.1 to the upstream.
 * `no-upgrade`: a plain `proxy_pass`, like a proxy without WebSocket support (nginx talks HTTP/1.0
 * to the upstream and drops the hop-by-hop `Upgrade` header), so only SSE + POST can work.
 */
export type NginxMode = 'no-upgrade' | 'websocket';

/** What varies between deployments (and between the docs and the tests). */
export interface SiteOptions {
  /** Argument of `listen`, e.g. `'80'` or `'127.0.0.1:41234'`. */
  listen: string;
  /** The wirehop server, e.g. `'http://127.0.0.1:3000'` (no path: the request path is kept). */
  upstream: string;
  /** wirehop's `path` with a trailing slash, e.g. `'/wirehop/'`. */
  location: string;
  /** `proxy_read_timeout`: the longest silence from wirehop before nginx closes a connection. */
  readTimeout: string;
  /** Extra directives at the end of the location: only for tests that break the config on purpose. */
  extra?: string[];
}

const indent = (lines: string[] | undefined) => (lines ?? []).map((l) => `        ${l}\n`).join('');

/**
 * The `http { }`-level part of nginx.conf for a wirehop server behind nginx. proxy_buffering is
 * deliberately left at its default (on): wirehop's SSE answers carry `X-Accel-Buffering: no`, which
 * turns buffering off for them alone, and the tests prove that this is enough.
 */
export function nginxSite(mode: NginxMode, o: SiteOptions): string {
  if (mode === 'no-upgrade')
    return `server {
    listen ${o.listen};

    location ${o.location} {
        proxy_pass ${o.upstream};
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        # Buffering stays on (nginx's default): wirehop's event streams turn it
        # off for themselves with X-Accel-Buffering: no.
        # Idle timeout: keep it above wirehop's heartbeatMs (default 15 s).
        proxy_read_timeout ${o.readTimeout};
${indent(o.extra)}    }
}
`;
  return `map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}

server {
    listen ${o.listen};

    location ${o.location} {
        proxy_pass ${o.upstream};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        # Buffering stays on (nginx's default): wirehop's event streams turn it
        # off for themselves with X-Accel-Buffering: no.
        # Idle timeout: keep it above wirehop's heartbeatMs (default 15 s).
        proxy_read_timeout ${o.readTimeout};
${indent(o.extra)}    }
}
`;
}

/** The whole nginx.conf a test runs: the site above inside a main context that keeps nginx in `dir`. */
function nginxConf(dir: string, site: string): string {
  const path = (name: string) => join(dir, name);
  // As root, nginx switches its workers to `user` (default nobody:nobody, and Debian has no group
  // nobody); as anyone else the directive is ignored with a warning, so it is written only for root.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}daemon off;
worker_processes 1;
pid ${path('nginx.pid')};
error_log ${path('error.log')} info;

events {
    worker_connections 256;
}

http {
    access_log ${path('access.log')};
    client_body_temp_path ${path('client_body')};
    proxy_temp_path ${path('proxy')};
    fastcgi_temp_path ${path('fastcgi')};
    uwsgi_temp_path ${path('uwsgi')};
    scgi_temp_path ${path('scgi')};

${site}}
`;
}

export interface StartNginxOptions {
  mode: NginxMode;
  /**
   * Port of the wirehop server on 127.0.0.1, or the ports of several (nodes on one broker): then an
   * `upstream` block balances them round robin, and a node that refuses the connection is skipped.
   */
  upstreamPort: number | number[];
  /** wirehop's path. Default `'/wirehop'`. */
  path?: string;
  /** proxy_read_timeout. Default `'60s'` (nginx's own default). */
  readTimeout?: string;
  extra?: string[];
}

export interface Nginx {
  /** The wirehop base URL through nginx, e.g. `http://127.0.0.1:41234/wirehop`: a client's `url`. */
  url: string;
  port: number;
  pid: number;
  /** The generated nginx.conf, for failure messages. */
  conf: string;
  accessLog(): Promise<string>;
  errorLog(): Promise<string>;
  /** Stops nginx by pid (SIGTERM, then SIGKILL after 5 s) and removes its temp dir. */
  close(): Promise<void>;
}

/** Stops nginx by pid: SIGTERM (its master ends the workers first, then exits), SIGKILL after 5 s. */
function stop(child: ChildProcess): Promise<void> {
  return signalAndWait(child, 'SIGTERM', 5_000);
}

/**
 * Runs nginx on `dir/nginx.conf` until it is ready (its pid file exists: nginx writes it after its
 * listening sockets are bound) or has exited. -e: errors before the config is read go to our log,
 * not to the build's default path.
 */
async function launch(bin: string, dir: string): Promise<{ child: ChildProcess; output: () => Promise<string> }> {
  const child = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let failed: Error | undefined;
  child.once('error', (e) => (failed = e));
  const output = async () => stderr + (await readFile(join(dir, 'error.log'), 'utf8').catch(() => ''));
  try {
    await waitFor(() => failed || child.exitCode !== null || child.signalCode !== null || existsSync(join(dir, 'nginx.pid')), { timeoutMs: 15_000, what: 'nginx to start' });
  } catch (error) {
    await stop(child);
    throw new Error(`${(error as Error).message}:\n${await output()}`);
  }
  if (failed) throw new Error(`could not start ${bin}: ${failed.message}`);
  return { child, output };
}

/**
 * Starts nginx in front of `127.0.0.1:upstreamPort`. The port is picked by binding port 0 and
 * closing it; if another process takes it before nginx binds, nginx exits and we retry with a new
 * one.
 */
export async function startNginx(options: StartNginxOptions): Promise<Nginx> {
  const bin = findExecutable('nginx', ['/usr/sbin/nginx'], 'apt-get install nginx');
  const path = options.path ?? '/wirehop';
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'wirehop-nginx-'));
    // Workers (root's run as root, see nginxConf) create their temp dirs below this one.
    await chmod(dir, 0o755);
    const port = await freePort();
    const ports = [options.upstreamPort].flat();
    const balanced = ports.length > 1 ? `upstream wirehop_nodes {\n${ports.map((p) => `    server 127.0.0.1:${p};\n`).join('')}}\n\n` : '';
    const site = balanced + nginxSite(options.mode, {
      listen: `127.0.0.1:${port}`,
      upstream: balanced ? 'http://wirehop_nodes' : `http://127.0.0.1:${ports[0]}`,
      location: `${path}/`,
      readTimeout: options.readTimeout ?? '60s',
      extra: options.extra,
    });
    const conf = nginxConf(dir, site);
    await writeFile(join(dir, 'nginx.conf'), conf);
    const { child, output } = await launch(bin, dir).catch(async (error: Error) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    });
    if (child.exitCode !== null || child.signalCode !== null) {
      lastError = await output();
      await rm(dir, { recursive: true, force: true });
      if (/Address already in use/.test(lastError)) continue; // lost the port race: pick another
      throw new Error(`nginx exited at start (${child.exitCode ?? child.signalCode}):\n${lastError}\nconfig:\n${conf}`);
    }
    const pid = child.pid!;
    // With `daemon off` nginx is our child, but it would outlive us.
    endOnExit(child, 'SIGTERM');
    return {
      url: `http://127.0.0.1:${port}${path}`,
      port,
      pid,
      conf,
      accessLog: () => readFile(join(dir, 'access.log'), 'utf8').catch(() => ''),
      errorLog: () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''),
      async close() {
        await stop(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`nginx could not bind a free port in 5 attempts:\n${lastError}`);
}
