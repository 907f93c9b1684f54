/**
 * wirehop on an HTTP/2 server with TLS that also speaks HTTP/1.1 (for WebSocket upgrades), as
 * docs/deploy.md sets it up, counting what arrives so tests can prove how many connections and
 * which protocol were used.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createWirehop, type ServerOptions, type Wirehop } from '@wirehop/server';
import type { TestCertificate } from './tls.js';

export interface Seen {
  tlsConnections: number;
  h2Sessions: number;
  requests: Array<{ version: string; method: string; path: string }>;
}

export interface H2Server {
  wh: Wirehop;
  /** `https://127.0.0.1:<port>` */
  origin: string;
  seen: Seen;
  close(): Promise<void>;
}

/**
 * Starts the server; `routes` may add the application's own routes before wirehop's are mounted,
 * and `options` go to createWirehop.
 */
export async function startH2Server(certificate: TestCertificate, routes?: (app: Hono, wh: Wirehop) => void, options?: ServerOptions): Promise<H2Server> {
  const wh = createWirehop({ onError: () => {}, ...options });
  const app = new Hono();
  routes?.(app, wh);
  wh.mount(app);
  const server = serve({
    fetch: app.fetch,
    createServer: http2.createSecureServer,
    serverOptions: { key: certificate.key, cert: certificate.cert, allowHTTP1: true },
    port: 0,
    hostname: '127.0.0.1',
  }) as http2.Http2SecureServer;
  // WebSocket upgrades are HTTP/1.1: allowHTTP1 lets them use the same port.
  wh.attach(server);
  const seen: Seen = { tlsConnections: 0, h2Sessions: 0, requests: [] };
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    seen.tlsConnections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('session', () => seen.h2Sessions++);
  server.on('request', (req: http2.Http2ServerRequest) => seen.requests.push({ version: req.httpVersion, method: req.method, path: req.url }));
  if (!server.listening) await once(server, 'listening');
  return {
    wh,
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      await wh.close();
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
