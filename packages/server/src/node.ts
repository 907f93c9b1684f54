/**
 * Node glue: the 'upgrade' listener that owns `${path}/ws` (our own `ws` server with our limits,
 * Origin checked before upgrading), and listen(), one call for an HTTP server with wirehop on it.
 */
import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import type { ErrorCode } from '@wirehop/protocol';
import { Hono } from 'hono';
import { WebSocketServer } from 'ws';
import { refuse, refusalBody } from './handshake.js';
import type { ServerLimits } from './options.js';
import { WsConnection, type WsHost } from './transports/websocket.js';
import type { ListeningServer, UserBase } from './types.js';

/** What the upgrade listener needs of the server. */
export interface UpgradeHost<U extends UserBase> extends WsHost<U> {
  originAllowed(origin: string | undefined, host: string | undefined, request: () => Request): boolean;
  connectionOpened(connection: WsConnection<U>): void;
}

/** `base` + `sub`, without a double slash when base is '/'. */
export function joinPath(base: string, sub: string): string {
  return base === '/' ? sub : base + sub;
}

/**
 * A `ws` server driven by our upgrade listener: maxPayload makes `ws` refuse oversize messages
 * before buffering them (close 1009); no compression (CPU, and compression-based attacks).
 */
export function createWebSocketServer(limits: ServerLimits): WebSocketServer {
  return new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
}

/** Answers an upgrade request with an HTTP error on the raw socket (no WebSocket was made). */
function rejectUpgrade(socket: Duplex, code: ErrorCode, message: string): void {
  const r = refuse(code, message);
  const body = JSON.stringify(refusalBody(r));
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A Request for an origin policy function, built only when one is configured. */
function requestOf(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { headers });
}

/**
 * The 'upgrade' listener. Upgrades for other paths are left to other listeners, unless `exclusive`
 * (a server made by listen(), where nobody else would answer them).
 */
export function upgradeListener<U extends UserBase>(
  host: UpgradeHost<U>,
  wss: WebSocketServer,
  wsPath: string,
  exclusive: boolean,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const pathname = query === -1 ? url : url.slice(0, query);
    if (pathname !== wsPath) {
      if (exclusive) rejectUpgrade(socket, 'bad_request', `no WebSocket endpoint at ${pathname}`);
      return;
    }
    // A draining server upgrades, and then closes with 4003: a refused upgrade is all a browser
    // would learn (1006), and it would try the next transport instead of resuming elsewhere.
    if (host.closing === 'server_closing') return rejectUpgrade(socket, 'server_closing', 'the server is shutting down');
    const origin = req.headers.origin;
    if (!host.originAllowed(origin, req.headers.host, () => requestOf(req)))
      return rejectUpgrade(socket, 'forbidden_origin', `origin ${origin} is not allowed`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      host.connectionOpened(new WsConnection(ws, socket, req, host));
    });
  };
}

/** The host part of a URL for a listening address (unspecified addresses are reached on loopback). */
function urlHost(address: AddressInfo, hostname: string | undefined): string {
  const name = hostname && hostname !== '0.0.0.0' && hostname !== '::' ? hostname : address.address === '::' || address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return name.includes(':') ? `[${name}]` : name;
}

export interface ListenHost {
  readonly path: string;
  readonly app: Hono;
  attachExclusive(server: HttpServer): void;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server with wirehop (and the application's app, after wirehop's routes) on it.
 * Resolves once listening, with the real port (port 0 picks a free one).
 */
export async function listen(host: ListenHost, options: { port?: number; hostname?: string; app?: Hono } = {}): Promise<ListeningServer> {
  const root = new Hono();
  root.route(host.path, host.app);
  if (options.app) root.route('/', options.app);
  const server = createAdaptorServer({ fetch: root.fetch, hostname: options.hostname }) as HttpServer;
  host.attachExclusive(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    url: `http://${urlHost(address, options.hostname)}:${address.port}${host.path === '/' ? '' : host.path}`,
    server,
    close() {
      closing ??= (async () => {
        // No new connections from now on: a balancer sends them to the other nodes, which is where
        // a draining wirehop's clients must resume. Those open stay until wirehop is done with them.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await host.close();
        // Idle keep-alive connections would otherwise hold close() open for keepAliveTimeout.
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
