/**
 * The Node entry's HTTP client against real servers on 127.0.0.1: bodies whole and streamed (UTF-8
 * split across chunks), one kept-alive connection for sequential requests, and every way a request
 * can end badly (abort, a body cut short, a refused connection) as a rejection, never a hang.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../../test/helpers/tls.js';
import { createNodeHttp } from './node-http.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A server that reads each request's body and hands it to `handler`; counts the TCP connections it accepted. */
async function serve(handler: Handler, server: Server = createServer()) {
  let connections = 0;
  server.on('connection', () => connections++);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (s: string) => (body += s));
    req.on('end', () => handler(req, res, body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise((done) => (server.closeAllConnections(), server.close(done))));
  const { port } = server.address() as AddressInfo;
  return { port, connections: () => connections };
}

describe('node:http client', () => {
  it('sends method, headers and body, and reads the answer as text; an error status is an answer, not a rejection', async () => {
    const { port } = await serve((req, res, body) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], length: req.headers['content-length'], body }));
    });
    const h = createNodeHttp();
    const answer = await h({ method: 'POST', url: `http://127.0.0.1:${port}/send`, headers: { 'content-type': 'application/x-ndjson' }, body: '[4,1,"é",null]\n' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(await answer.text())).toEqual({ method: 'POST', type: 'application/x-ndjson', length: '16', body: '[4,1,"é",null]\n' });
    const missing = await h({ url: `http://127.0.0.1:${port}/missing`, headers: {} });
    expect(missing.status).toBe(404);
    expect(JSON.parse(await missing.text())).toMatchObject({ method: 'GET' });
  });

  it('keeps the connection alive: sequential requests go over one socket', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    const h = createNodeHttp();
    for (let i = 0; i < 5; i++) expect(await (await h({ url: `http://127.0.0.1:${server.port}/ping`, headers: {} })).text()).toBe('ok');
    expect(server.connections()).toBe(1);
  });

  it('streams the body as it arrives, with characters split across chunks decoded whole', async () => {
    let release!: () => void;
    const { port } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const text = Buffer.from('data: ünïcödé 🙂\n\n');
      res.write(text.subarray(0, 8)); // inside "ü"
      release = () => {
        res.write(text.subarray(8, 20)); // inside the emoji
        res.end(text.subarray(20));
      };
    });
    const answer = await createNodeHttp()({ url: `http://127.0.0.1:${port}/sse`, headers: {} });
    const chunks: string[] = [];
    let firstChunk!: () => void;
    const first = new Promise<void>((resolve) => (firstChunk = resolve));
    const ended = answer.stream((text) => (chunks.push(text), firstChunk()));
    await first; // the first chunk is delivered while the server still holds the rest
    expect(chunks.length).toBe(1);
    release();
    await ended;
    expect(chunks.join('')).toBe('data: ünïcödé 🙂\n\n');
  });

  it('rejects when aborted mid-stream, and the server sees the request end', async () => {
    let closed!: Promise<unknown>;
    const { port } = await serve((req, res) => {
      closed = once(res, 'close');
      res.writeHead(200);
      res.write('data: 1\n\n');
    });
    const abort = new AbortController();
    const answer = await createNodeHttp()({ url: `http://127.0.0.1:${port}/sse`, headers: {}, signal: abort.signal });
    const ended = answer.stream(() => abort.abort());
    await expect(ended).rejects.toThrow();
    await closed;
  });

  it('rejects when aborted before the answer', async () => {
    const { port } = await serve(() => undefined); // never answers
    const abort = new AbortController();
    const request = createNodeHttp()({ url: `http://127.0.0.1:${port}/ping`, headers: {}, signal: abort.signal });
    setTimeout(() => abort.abort(), 10);
    await expect(request).rejects.toThrow(/abort/i);
  });

  it('rejects a body cut short by the server', async () => {
    const { port } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part of it');
      setTimeout(() => res.socket?.destroy(), 10);
    });
    const answer = await createNodeHttp()({ url: `http://127.0.0.1:${port}/send`, headers: {}, method: 'POST', body: 'x' });
    await expect(answer.text()).rejects.toThrow();
  });

  it('sends a request once more when its kept-alive socket was closed before any answer (the keep-alive race), only once', async () => {
    const onSocket = new WeakMap<object, number>();
    const bodies: string[] = [];
    let failAll = false;
    const server = await serve((req, res, body) => {
      bodies.push(body);
      const n = (onSocket.get(req.socket) ?? 0) + 1;
      onSocket.set(req.socket, n);
      // Closed as the request came, unanswered: what a server's keep-alive timeout does at the wrong moment.
      if (n === 2 || failAll) return void req.socket.destroy();
      res.end('ok ' + body);
    });
    const h = createNodeHttp();
    const post = (body: string) => h({ method: 'POST', url: `http://127.0.0.1:${server.port}/send`, headers: {}, body });
    expect(await (await post('a')).text()).toBe('ok a');
    expect(await (await post('b')).text()).toBe('ok b'); // the second on its socket: closed, sent again on a new one
    expect(bodies).toEqual(['a', 'b', 'b']);
    expect(server.connections()).toBe(2);

    failAll = true;
    await expect(post('c')).rejects.toMatchObject({ code: 'ECONNRESET' }); // kept-alive socket, then a fresh one: no third try
    expect(bodies).toEqual(['a', 'b', 'b', 'c', 'c']);
    await expect(createNodeHttp()({ url: `http://127.0.0.1:${server.port}/x`, headers: {} })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(bodies).toHaveLength(6); // a fresh socket that fails is not retried
  });

  it('rejects a refused connection', async () => {
    const { port } = await serve(() => undefined);
    await cleanup.pop()!(); // closed: nothing listens there now
    await expect(createNodeHttp()({ url: `http://127.0.0.1:${port}/ping`, headers: {} })).rejects.toThrow(/ECONNREFUSED/);
  });

  it('speaks TLS to https URLs, checking the certificate', async () => {
    const certificate = await selfSignedCertificate();
    cleanup.push(() => certificate.remove());
    const { port } = await serve((_req, res) => res.end('secure'), createTlsServer({ key: certificate.key, cert: certificate.cert }));
    const url = `https://127.0.0.1:${port}/ping`;
    expect(await (await createNodeHttp({ ca: certificate.cert })({ url, headers: {} })).text()).toBe('secure');
    await expect(createNodeHttp()({ url, headers: {} })).rejects.toThrow(/self.signed/i);
  });
});
