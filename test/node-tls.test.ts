/**
 * docs/deploy.md says a Node client trusts a private CA through NODE_EXTRA_CA_CERTS, with no option
 * of wirehop's own: both its HTTP requests (node:https) and its WebSocket (`ws`, over node:tls)
 * use Node's default trust store, which that variable extends at process start. So the client runs
 * in a child process started with and without it, against wirehop on TLS with a self-signed
 * certificate.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startH2Server, type H2Server } from './helpers/h2-server.js';
import { sourceScriptArgs } from './helpers/node-process.js';
import { selfSignedCertificate, type TestCertificate } from './helpers/tls.js';

const SCRIPT = fileURLToPath(new URL('./helpers/fixtures/tls-client.ts', import.meta.url));

let certificate: TestCertificate | undefined;
let server: H2Server | undefined;
let dir = '';
let caFile = '';

beforeAll(async () => {
  certificate = await selfSignedCertificate();
  dir = await mkdtemp(join(tmpdir(), 'wirehop-ca-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, certificate.cert);
  server = await startH2Server(certificate);
  server.wh.onRequest('echo', (data) => data);
});

afterAll(async () => {
  await server?.close();
  await certificate?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the client script in a fresh Node process; `ca` sets NODE_EXTRA_CA_CERTS, otherwise it is unset. */
function runClient(transport: 'websocket' | 'sse', ca?: string): Promise<Record<string, unknown>> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: ca };
  if (!ca) delete env.NODE_EXTRA_CA_CERTS;
  const url = server!.origin + server!.wh.path;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, sourceScriptArgs(SCRIPT, url, transport), { env, timeout: 30_000 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop();
      if (error || !line) reject(new Error(`client process failed: ${error?.message ?? 'no output'}\n${stderr}`));
      else resolve(JSON.parse(line) as Record<string, unknown>);
    }),
  );
}

it.each(['websocket', 'sse'] as const)('%s: a private CA in NODE_EXTRA_CA_CERTS is trusted, with no client option', async (transport) => {
  expect(await runClient(transport, caFile)).toEqual({ ok: true, transport, echo: { n: 1 } });
});

it.each(['websocket', 'sse'] as const)('%s, control: without it the self-signed certificate is refused, and the error names the certificate', async (transport) => {
  const result = await runClient(transport);
  expect(result).toMatchObject({ ok: false, code: 'transport_failed' });
  expect(result.message).toMatch(/certificate/i);
});
