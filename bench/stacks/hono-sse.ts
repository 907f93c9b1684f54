/**
 * A naive SSE baseline, what one writes in an afternoon with Hono: `streamSSE` per client
 * (GET /sse?id=…), one POST per upstream message (POST /send?id=…), echoed on the client's stream;
 * broadcast is writeSSE() on every stream. No sessions, acks, ordering or resume: concurrent POSTs
 * may even overtake each other.
 */
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { httpAgent, type HttpAgent } from './http-agent.js';
import { closeHttp, listenLocal } from './net.js';
import type { BenchClient, BenchConnection, BenchServer, Stack } from './types.js';

function honoServer(): BenchServer {
  const streams = new Map<string, SSEStreamingApi>();
  const app = new Hono();
  app.get('/sse', (c) => {
    const id = c.req.query('id') ?? '';
    return streamSSE(c, async (stream) => {
      streams.set(id, stream);
      const aborted = new Promise<void>((resolve) => stream.onAbort(resolve));
      await stream.writeSSE({ event: 'ready', data: '' });
      await aborted;
      streams.delete(id);
    });
  });
  app.post('/send', async (c) => {
    const stream = streams.get(c.req.query('id') ?? '');
    const body = await c.req.text();
    if (!stream) return c.text('no such stream', 404);
    void stream.writeSSE({ data: body });
    return c.body(null, 204);
  });
  const http = createAdaptorServer({ fetch: app.fetch }) as Server;
  return {
    async start(port) {
      return `http://127.0.0.1:${await listenLocal(http, port)}`;
    },
    broadcast(data) {
      for (const stream of streams.values()) void stream.writeSSE({ data });
    },
    get connections() {
      return streams.size;
    },
    async close() {
      for (const stream of streams.values()) stream.abort();
      await closeHttp(http);
    },
  };
}

/** Feeds SSE text; calls `onEvent(event, data)` per complete event (LF line endings, as Hono writes). */
function sseReader(onEvent: (event: string, data: string) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    let start = 0;
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n', start)) {
      let event = 'message';
      const data: string[] = [];
      for (const line of buffer.slice(start, end).split('\n')) {
        if (line.startsWith('data: ')) data.push(line.slice(6));
        else if (line.startsWith('event: ')) event = line.slice(7);
      }
      onEvent(event, data.join('\n'));
      start = end + 2;
    }
    buffer = buffer.slice(start);
  };
}

function honoClient(): BenchClient {
  let agent: HttpAgent | undefined;
  let errors = 0;
  let nextId = 0;
  return {
    get errors() {
      return errors;
    },
    async connect(url) {
      agent ??= httpAgent();
      const { fetch } = agent;
      const id = `${process.pid}-${nextId++}`;
      const abort = new AbortController();
      let listener: (data: string) => void = () => undefined;
      let closing = false;
      const response = await fetch(`${url}/sse?id=${id}`, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
      if (!response.ok || !response.body) throw new Error(`GET /sse answered ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let ready: () => void = () => undefined;
      const readyPromise = new Promise<void>((resolve) => (ready = resolve));
      const feed = sseReader((event, data) => (event === 'ready' ? ready() : listener(data)));
      void (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          feed(decoder.decode(value, { stream: true }));
        }
      })().then(
        () => void (closing || errors++),
        () => void (closing || errors++),
      );
      await readyPromise;
      const sendUrl = `${url}/send?id=${id}`;
      return {
        send(data) {
          fetch(sendUrl, { method: 'POST', body: data, headers: { 'content-type': 'text/plain' } })
            .then((r) => {
              if (!r.ok) errors++;
              return r.arrayBuffer();
            })
            .catch(() => errors++);
        },
        onMessage: (l) => void (listener = l),
        close() {
          closing = true;
          abort.abort();
        },
      } satisfies BenchConnection;
    },
    async dispose() {
      await agent?.close();
    },
  };
}

export const honoSse: Stack = {
  id: 'hono-sse',
  label: 'Hono SSE naive',
  description: 'Hono streamSSE down, one fetch POST per message up; no sessions or ordering',
  server: honoServer,
  client: honoClient,
};
