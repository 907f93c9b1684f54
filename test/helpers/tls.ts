/**
 * A throwaway self-signed certificate for 127.0.0.1, made by the system's openssl in a temp dir,
 * for tests that need TLS (HTTP/2 in browsers and in undici needs it: h2 is negotiated by ALPN).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable } from './bin.js';

export interface TestCertificate {
  /** PEM private key. */
  key: string;
  /** PEM certificate; also what a client trusts as its CA, since it signs itself. */
  cert: string;
  /** Removes the temp dir. */
  remove(): Promise<void>;
}

/** A one-day certificate for CN=127.0.0.1 with subjectAltName IP:127.0.0.1 (what TLS clients check). */
export async function selfSignedCertificate(): Promise<TestCertificate> {
  const openssl = findExecutable('openssl', ['/usr/bin/openssl'], 'apt-get install openssl');
  const dir = await mkdtemp(join(tmpdir(), 'wirehop-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    // -addext needs OpenSSL ≥ 1.1.1.
    await promisify(execFile)(
      openssl,
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'],
      { timeout: 30_000 },
    );
    const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
    return { key, cert, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${openssl} could not make a test certificate: ${(error as Error).message}`);
  }
}
