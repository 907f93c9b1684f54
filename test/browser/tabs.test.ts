/**
 * Many tabs of one origin on SSE in a real Chromium (docs/deploy.md, "Many tabs over HTTP/1.1").
 * Over HTTP/1.1 Chromium opens at most six connections per host for all the tabs of a profile, and
 * every open event stream holds one: without tab slots (packages/client/src/tab-slots.ts) a seventh
 * tab's stream, and with all six held every tab's POSTs, would wait forever without a word. With
 * them, `sseTabSlots` (default 4) tabs hold streams, the others say `tab_limit` and wait for a slot,
 * and a tab that goes away hands its slot on. Over HTTP/2 the client sees `h2` in Resource Timing
 * and takes no slot: every tab connects (test/browser/http2.test.ts shows the one shared connection).
 *
 * The tabs are pages of one browser context (one profile: they share the connection pool and the
 * Web Locks), each with its own client forced onto SSE.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { createWirehop, type Wirehop } from '@wirehop/server';
import { clientBundle } from '../../examples/kit/src/bundle.js';
import { clientPage, eventually, screenshot, useTlsBrowser } from '../helpers/browser.js';

/** The default of `sseTabSlots`. */
const SLOTS = 4;
const TABS = SLOTS + 2;

const suite = useTlsBrowser();

/**
 * One tab: a client forced onto SSE (or `?transports=`, and `?static` for `adaptive: false`) at
 * `?url=`, else this origin's /wirehop. It subscribes to 'news' and records its items in `__got`,
 * the codes of its 'error' events in `__errors`, sets `__ready` once subscribed; `__note(text)`
 * sends a 'note' and sets `__noted` once the server acked it; `__close()` closes the client.
 */
const PAGE = clientPage('wirehop tab', `
  const query = new URLSearchParams(location.search);
  const url = query.get('url') ?? location.origin + '/wirehop';
  Object.assign(window, { __got: [], __errors: [], __ready: false, __noted: false });
  const transports = (query.get('transports') ?? 'sse').split(',');
  const client = createClient({ url, transports, adaptive: query.has('static') ? false : undefined });
  client.on('error', (error) => {
    window.__errors.push(error.code);
    status.textContent = client.state + ': ' + error.message;
  });
  const news = client.channel('news');
  news.on('item', (data) => window.__got.push(data));
  window.__state = () => client.state;
  window.__transport = () => client.transport;
  window.__echo = (value) => client.request('echo', value);
  window.__note = (text) => void client.send('note', text).then(() => (window.__noted = true));
  window.__close = () => client.close();
  try {
    await client.connect();
    await news.subscribe();
    window.__ready = true;
    status.textContent = 'subscribed to news over ' + client.transport;
  } catch (error) {
    status.textContent = 'failed: ' + error.message; // closed while waiting, on purpose
  }
`);

declare global {
  interface Window {
    __got: unknown[];
    __errors: string[];
    __ready: boolean;
    __noted: boolean;
    __state(): string;
    __transport(): string | null;
    __echo(value: unknown): Promise<unknown>;
    __note(text: string): void;
    __close(): void;
  }
}

/** The tab page, the client bundle, and a wirehop that counts each 'note' it handles. */
async function app(wh: Wirehop, notes: Map<unknown, number>): Promise<Hono> {
  const bundle = await clientBundle();
  wh.channel('news');
  wh.onRequest('echo', (d) => d);
  wh.onMessage('note', (text) => void notes.set(text, (notes.get(text) ?? 0) + 1));
  const hono = new Hono();
  hono.get('/', (c) => c.html(PAGE));
  hono.get('/client.js', (c) => c.body(bundle, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  return hono;
}

async function newContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; errors: string[] }> {
  const context = await suite.browser.newContext({ viewport: { width: 900, height: 300 }, ...options });
  suite.cleanup(() => context.close());
  // Generous: these waits end on a condition, the deadline only matters when something is broken.
  context.setDefaultTimeout(30_000);
  const errors: string[] = [];
  context.on('weberror', (e) => errors.push(e.error().stack ?? e.error().message));
  return { context, errors };
}

/** The names of the Web Locks held in the context (its pages share them). */
const heldLocks = (page: Page) => page.evaluate(async () => ((await navigator.locks.query()).held ?? []).map((l) => l.name!).sort());

const ready = (page: Page) => page.waitForFunction(() => window.__ready === true).then(() => undefined);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

it(`over HTTP/1.1, ${SLOTS} tabs hold SSE streams, the others report tab_limit and connect once a tab goes away`, async () => {
  const wh = createWirehop({ onError: () => {} });
  const notes = new Map<unknown, number>();
  const server = await wh.listen({ port: 0, hostname: '127.0.0.1', app: await app(wh, notes) });
  suite.cleanup(async () => {
    await wh.close();
    await server.close();
  });
  const origin = `http://127.0.0.1:${server.port}`;
  const { context, errors } = await newContext();

  // One tab after the other, so that the first SLOTS take the slots.
  const pages: Page[] = [];
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    pages.push(page);
    if (i < SLOTS) await ready(page);
    else await page.waitForFunction(() => window.__errors.includes('tab_limit'));
  }
  const live = pages.slice(0, SLOTS);
  const waiting = pages.slice(SLOTS);
  expect(await heldLocks(live[0]!)).toEqual(range(SLOTS).map((i) => `wirehop:sse:${origin}:${i}`));
  expect(wh.sessionCount).toBe(SLOTS); // the waiting tabs did not even create a session
  for (const page of waiting) {
    expect(await page.evaluate(() => window.__state())).toBe('connecting');
    expect(await page.evaluate(() => window.__errors)).toEqual(['tab_limit']);
    expect(await page.locator('#status').textContent()).toContain('too many tabs hold SSE streams');
  }
  await screenshot(waiting[0]!, 'waiting');

  // The tabs that hold slots work both ways, POSTs included: connections are left for them.
  for (let k = 0; k < 5; k++) await wh.publish('news', 'item', k);
  await Promise.all(live.map((page) => page.waitForFunction(() => window.__got.length >= 5)));
  for (const page of live) expect(await page.evaluate(() => window.__got)).toEqual(range(5));
  expect(await Promise.all(live.map((page, i) => page.evaluate((v) => window.__echo(v), i)))).toEqual(range(SLOTS));

  // Each waiting tab queues a note; closing a tab that holds a slot lets one of them connect.
  for (const [i, page] of waiting.entries()) await page.evaluate((text) => window.__note(text), `note ${i}`);
  await live[0]!.close();
  const first = await Promise.race(waiting.map((page, i) => ready(page).then(() => i)));
  const other = waiting[1 - first]!;
  expect(await other.evaluate(() => window.__state())).toBe('connecting');
  await waiting[first]!.waitForFunction(() => window.__noted === true);
  expect(notes.get(`note ${first}`)).toBe(1);
  expect(notes.has(`note ${1 - first}`)).toBe(false);

  // ...and closing another lets the last one in.
  await live[1]!.close();
  await ready(other);
  await other.waitForFunction(() => window.__noted === true);
  const open = [...live.slice(2), ...waiting];
  await wh.publish('news', 'item', 'after');
  await Promise.all(open.map((page) => page.waitForFunction(() => window.__got.includes('after'))));
  expect(Object.fromEntries(notes)).toEqual({ 'note 0': 1, 'note 1': 1 });
  for (const page of waiting) expect(await page.evaluate(() => window.__errors)).toEqual(['tab_limit']);
  expect(await heldLocks(open[0]!)).toHaveLength(SLOTS);

  // A client that may use WebSocket does so rather than wait, even with SSE first. (Adaptive
  // switching is off: its probe would pick WebSocket here before trying SSE at all.)
  const switcher = await context.newPage();
  await switcher.goto(`${origin}/?transports=sse,websocket&static`);
  await ready(switcher);
  expect(await switcher.evaluate(() => [window.__transport(), window.__errors])).toEqual(['websocket', ['tab_limit']]);
  await switcher.close();

  // A client closed while it waits takes no slot when its turn comes.
  const quitter = await context.newPage();
  await quitter.goto(`${origin}/`);
  await quitter.waitForFunction(() => window.__errors.includes('tab_limit'));
  await quitter.evaluate(() => window.__close());
  await open[0]!.close();
  await eventually(() => heldLocks(open[1]!)).toHaveLength(SLOTS - 1);
  expect(await quitter.evaluate(() => window.__state())).toBe('closed');
  expect(errors).toEqual([]);
}, 120_000);

it('over HTTP/2 no tab needs a slot: every tab connects, cross-origin too (Timing-Allow-Origin)', async () => {
  const wh = createWirehop({ onError: () => {}, origins: '*' });
  const notes = new Map<unknown, number>();
  const hono = await app(wh, notes);
  wh.mount(hono);
  const server = serve({
    fetch: hono.fetch,
    createServer: http2.createSecureServer,
    serverOptions: { key: suite.certificate.key, cert: suite.certificate.cert, allowHTTP1: true },
    port: 0,
    hostname: '127.0.0.1',
  }) as http2.Http2SecureServer;
  if (!server.listening) await once(server, 'listening');
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => sessions.add(s).size);
  suite.cleanup(async () => {
    await wh.close();
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of sessions) s.destroy();
    await closed;
  });
  const port = (server.address() as AddressInfo).port;
  // The page comes from another origin (localhost), so nothing it loaded says how 127.0.0.1
  // answers: the first SLOTS tabs take slots, the others ask (GET /ping) and read `h2`.
  const url = `https://127.0.0.1:${port}/wirehop`;
  const { context, errors } = await newContext({ ignoreHTTPSErrors: true });
  const pages: Page[] = [];
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    await page.goto(`https://localhost:${port}/?url=${encodeURIComponent(url)}`);
    await ready(page);
    pages.push(page);
  }
  expect(wh.sessionCount).toBe(TABS);
  expect(await heldLocks(pages[0]!)).toHaveLength(SLOTS);
  for (const page of pages) expect(await page.evaluate(() => window.__errors)).toEqual([]);
  for (let k = 0; k < 5; k++) await wh.publish('news', 'item', k);
  await Promise.all(pages.map((page) => page.waitForFunction(() => window.__got.length >= 5)));
  expect(await Promise.all(pages.map((page, i) => page.evaluate((v) => window.__echo(v), i)))).toEqual(range(TABS));
  // What the tabs without a slot read: the ping answer, over h2, its protocol visible cross-origin.
  const protocols = await pages[TABS - 1]!.evaluate(() =>
    performance.getEntriesByType('resource').flatMap((e) => (new URL(e.name).pathname === '/wirehop/ping' ? [(e as PerformanceResourceTiming).nextHopProtocol] : [])),
  );
  expect(protocols).toEqual(['h2']);
  expect(errors).toEqual([]);
}, 120_000);
