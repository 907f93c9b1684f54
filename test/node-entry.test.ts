/**
 * The client's Node entry makes its HTTP requests (POST /session, GET /sse, POST /send) with
 * node:http; an application's own `fetch` still takes them all. Both carry a session end to end.
 */
import { createClient } from '@wirehop/client';
import { afterEach, expect, it, vi } from 'vitest';
import { startFixture, type Fixture } from './helpers/fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  vi.unstubAllGlobals();
  await fx?.close();
  fx = undefined;
});

/** The global fetch, counting the requests made through it. */
function countedFetch() {
  const real = globalThis.fetch;
  const urls: string[] = [];
  const counted = ((input: string, init?: RequestInit) => (urls.push(String(input)), real(input, init))) as typeof fetch;
  return { counted, urls };
}

async function roundTrip(options: Parameters<typeof createClient>[0]) {
  const client = createClient(options);
  try {
    await client.connect();
    expect(await client.request('echo', { n: 1 })).toEqual({ n: 1 });
    return client.transport;
  } finally {
    client.close();
  }
}

it('uses node:http by default, the global fetch never', async () => {
  fx = await startFixture();
  fx.wh.onRequest('echo', (data) => data);
  const { counted, urls } = countedFetch();
  vi.stubGlobal('fetch', counted);
  // The default client connects on WebSocket with no request first; forced SSE makes every request HTTP.
  expect(await roundTrip({ url: fx.url })).toBe('websocket');
  expect(await roundTrip({ url: fx.url, transports: ['sse'], adaptive: false })).toBe('sse');
  expect(urls).toEqual([]);
});

it('sends every request through the fetch it is given', async () => {
  fx = await startFixture();
  fx.wh.onRequest('echo', (data) => data);
  const { counted, urls } = countedFetch();
  expect(await roundTrip({ url: fx.url, fetch: counted })).toBe('websocket');
  expect(urls).toEqual([]);
  expect(await roundTrip({ url: fx.url, transports: ['sse'], adaptive: false, fetch: counted })).toBe('sse');
  expect(urls.map((u) => new URL(u).pathname)).toEqual(expect.arrayContaining(['/wirehop/session', '/wirehop/sse', '/wirehop/send']));
});
