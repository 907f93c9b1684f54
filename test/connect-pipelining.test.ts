/**
 * What an application does before its connection is up goes out right behind the HELLO: on a
 * WebSocket as the next messages (protocol.md §4), on SSE in the POST /session body, or for a
 * resume in a POST /send beside the GET /sse (§5). So it is answered a round trip sooner: seen here
 * from the server's side, through a netsim proxy that delays each direction by 100 ms.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createClient, type ClientState } from '@wirehop/client';
import { createWirehop } from '@wirehop/server';
import { TRANSPORTS, startFixture, type Fixture } from './helpers/fixture.js';
import { waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/**
 * A client on `transport` subscribes before it is connected, through the proxy; returns the
 * client's state each time the server authorized the subscribe, and the client.
 */
async function subscribeBeforeConnect(transport: 'websocket' | 'sse') {
  const seen: ClientState[] = [];
  let client: ReturnType<Fixture['client']> | undefined;
  fx = await startFixture();
  fx.wh.channel('room', {
    authorize: () => {
      seen.push(client!.state);
      return true;
    },
  });
  const { url, proxy } = await fx.proxied();
  proxy.set({ latencyMs: 100 });
  client = fx.client({ url, transports: [transport] });
  await client.channel('room').subscribe();
  return { seen, client };
}

it('the server authorizes a subscribe made before connect while its WELCOME is still on the way to the client', async () => {
  const { seen, client } = await subscribeBeforeConnect('websocket');
  // Without the frames after HELLO, the subscribe would leave only once WELCOME arrived.
  expect(seen).toEqual(['connecting']);
  expect(client.state).toBe('connected');
}, 20_000);

it('on SSE, the server authorizes a subscribe made before connect while the session is being created', async () => {
  const { seen, client } = await subscribeBeforeConnect('sse');
  // Without the frames in the POST /session body, the subscribe would leave in a POST /send once
  // the stream's WELCOME had arrived.
  expect(seen).toEqual(['connecting']);
  expect(client.state).toBe('connected');
  expect(client.transport).toBe('sse');
}, 20_000);

it.each(TRANSPORTS)('%s: a message sent while the session was down reaches the server while its resume is still on the way to the client', async (transport) => {
  fx = await startFixture();
  const seen: Array<[unknown, ClientState]> = [];
  let client: ReturnType<Fixture['client']> | undefined;
  fx.wh.onMessage('note', (data) => void seen.push([data, client!.state]));
  const { url, proxy } = await fx.proxied();
  proxy.set({ latencyMs: 100 });
  // SSE attempts counted as their GET /sse leaves, right after what they carry was taken.
  let attempts = 0;
  const counted: typeof fetch = (input, init) => {
    if (String(input).endsWith('/sse')) attempts++;
    return fetch(input, init);
  };
  client = fx.client({ url, transports: [transport], adaptive: false, reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, ...(transport === 'sse' && { fetch: counted }) });
  await client.send('note', 1);
  const session = client.sessionId;
  proxy.set({ refuse: true });
  proxy.cutAll();
  await waitFor(() => client!.state === 'reconnecting', { what: 'the client to notice' });
  const queued = client.send('note', 2);
  // An SSE attempt begun before the send carries nothing: the proxy lets through only those begun
  // after it. (A WebSocket takes what it carries once its socket opened.)
  const before = attempts;
  if (transport === 'sse') await waitFor(() => attempts > before, { what: 'an attempt after the send' });
  proxy.set({ refuse: false });
  await queued;
  // Sent only once WELCOME had come, it would have found the client connected.
  expect(seen).toEqual([
    [1, 'connected'],
    [2, 'reconnecting'],
  ]);
  expect(client.sessionId).toBe(session);
  expect(client.stats.reconnects).toBe(1);
}, 20_000);

it.each(TRANSPORTS)("%s: a session that a message's handler ends is a gap whose ack counts that message: nothing runs twice", async (transport) => {
  const ran: string[] = [];
  fx = await startFixture();
  fx.wh.onMessage('leave', (_data, session) => {
    ran.push('leave');
    session.close('done here');
  });
  fx.wh.onMessage('note', () => void ran.push('note'));
  const client = fx.client({ transports: [transport], reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
  const gaps: unknown[] = [];
  client.on('gap', (g) => gaps.push(g));
  await Promise.all([client.send('leave'), client.send('note')]);
  // 'leave' ended the session it came in and is not sent again; 'note' was never applied there.
  expect(ran).toEqual(['leave', 'note']);
  expect(gaps).toEqual([{ code: 'session_closed', message: 'done here', resent: 1, lost: 0 }]);
}, 20_000);

it('on SSE, a stream refused once after the POST /session body carried a subscribe resumes that session: authorized once, one session', async () => {
  const app = new Hono();
  const seen: string[] = [];
  let refused = 0;
  app.use('/wirehop/*', async (c, next) => {
    seen.push(`${c.req.method} ${new URL(c.req.url).pathname}`);
    // A proxy that fails the first stream (a deploy, a flaky hop): 502, no wirehop error body.
    if (c.req.path === '/wirehop/sse' && refused++ === 0) return c.text('bad gateway', 502);
    await next();
  });
  const wh = createWirehop();
  wh.mount(app);
  const authorized: string[] = [];
  wh.channel('room', {
    authorize: (session) => {
      authorized.push(session.id);
      return true;
    },
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  wh.attach(server);
  await new Promise((r) => server.once('listening', r));
  const client = createClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wirehop`, transports: ['sse'], reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
  try {
    await client.channel('room').subscribe();
    expect(authorized).toEqual([client.sessionId]);
    expect(wh.sessionCount).toBe(1);
    expect(seen.filter((s) => s === 'POST /wirehop/session')).toHaveLength(1);
    expect(seen.filter((s) => s === 'GET /wirehop/sse')).toHaveLength(2);
  } finally {
    client.close();
    await wh.close();
    await new Promise((r) => server.close(r));
  }
}, 20_000);
