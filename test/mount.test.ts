/**
 * The bring-your-own-server path of docs/guide.md: a Hono app with its own routes, wirehop mounted
 * on it, served by @hono/node-server, WebSocket upgrades attached to the same Node server.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createClient, type WirehopClient } from '@wirehop/client';
import { createWirehop, type Wirehop } from '@wirehop/server';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

it.each(['websocket', 'sse'] as const)('works mounted on an application’s own Hono app and Node server (%s)', async (transport) => {
  const app = new Hono();
  app.get('/hello', (c) => c.text('app route'));
  const wh: Wirehop = createWirehop();
  wh.mount(app);
  wh.onRequest('sum', (d) => (d as number[]).reduce((a, b) => a + b, 0));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  wh.attach(server);
  cleanup.push(() => new Promise((r) => server.close(r)), () => wh.close());
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  expect(await (await fetch(base + '/hello')).text()).toBe('app route');
  const client: WirehopClient = createClient({ url: base + '/wirehop', transports: [transport] });
  cleanup.push(() => client.close());
  await client.connect();
  expect(client.transport).toBe(transport);
  await expect(client.request('sum', [1, 2, 3])).resolves.toBe(6);
});
