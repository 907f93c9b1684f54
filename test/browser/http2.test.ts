/**
 * The SSE transport over HTTP/2 in a real Chromium (docs/deploy.md): the Node-side version of this
 * is test/http2.test.ts. Eight tabs of one origin, each with its own wirehop client forced onto
 * SSE, in one browser context. Over HTTP/1.1 each open event stream holds one of Chromium's six
 * connections per host for good, so the seventh tab's stream (and, with all six held, every tab's
 * POSTs) would wait forever; over HTTP/2 every event stream and POST is a stream of one shared
 * connection. (This file does not run the HTTP/1.1 case in Chromium; test/http2.test.ts shows it
 * in miniature with one connection.)
 *
 * The server is the one test/http2.test.ts starts (Node's `http2.createSecureServer`, a self-signed
 * certificate for 127.0.0.1, `allowHTTP1`), plus a page at `/` and the client bundle at
 * `/client.js`. Chromium accepts the certificate through the context's `ignoreHTTPSErrors`, which
 * Playwright applies per context (DevTools' `Security.setIgnoreCertificateErrors`), so the browser is
 * launched with exactly the flags of test/helpers/browser.ts.
 *
 * The protocol is checked from both ends: each request's `nextHopProtocol` as the page's Resource
 * Timing reports it, and on the server the HTTP version of every request and the number of TLS
 * connections and HTTP/2 sessions. A Resource Timing entry is only added once a response's body has
 * ended, so the page's event stream shows up there only after the page closes its client.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { clientBundle } from '../../examples/kit/src/bundle.js';
import { screenshot, useTlsBrowser } from '../helpers/browser.js';
import { startH2Server } from '../helpers/h2-server.js';

const TABS = 8;
const EVENTS = 20;

const suite = useTlsBrowser();

/**
 * One tab: a client forced onto SSE that subscribes to 'news', records its items in `__got`, sets
 * `__ready` once subscribed, and offers `__echo` (a request) and `__close` (closes the client).
 */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>wirehop over HTTP/2</title>
<body style="font: 14px system-ui; margin: 24px">
<h1 style="font-size: 18px">wirehop SSE over HTTP/2</h1>
<p id="status">loading…</p>
<ol id="items"></ol>
<script type="module">
  import { createClient } from '/client.js';
  const status = document.getElementById('status');
  const items = document.getElementById('items');
  window.__got = [];
  window.__ready = false;
  const client = createClient({ url: location.origin + '/wirehop', transports: ['sse'] });
  const news = client.channel('news');
  news.on('item', (data) => {
    window.__got.push(data);
    items.insertAdjacentHTML('beforeend', '<li>item ' + data + '</li>');
  });
  window.__echo = (value) => client.request('echo', value);
  window.__close = () => client.close();
  try {
    await client.connect();
    await news.subscribe();
    window.__ready = true;
    status.textContent = 'subscribed to news over ' + client.transport;
  } catch (error) {
    status.textContent = 'failed: ' + error;
    throw error;
  }
</script>
`;

/** What the server saw: TLS connections, HTTP/2 sessions on them, and every request's HTTP version. */
/** The page, the client bundle and wirehop, on HTTP/2 with TLS (test/helpers/h2-server.ts). */
async function startServer() {
  const bundle = await clientBundle();
  const server = await startH2Server(suite.certificate, (app, wh) => {
    wh.channel('news');
    wh.onRequest('echo', (d) => d);
    app.get('/', (c) => c.html(PAGE));
    app.get('/client.js', (c) => c.body(bundle, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  });
  suite.cleanup(() => server.close());
  return server;
}

/** `nextHopProtocol` of every Resource Timing entry of the page whose path is `path`. */
/**
 * The HTTP versions Resource Timing saw for `path`. A request the page aborted while closing its
 * client (the event stream, a POST in flight) is recorded with an empty protocol: it says nothing
 * about the version, so it is left out. The server's own log below checks every request is HTTP/2.
 */
function protocolsOf(page: Page, path: string): Promise<string[]> {
  return page.evaluate(
    (p) =>
      performance
        .getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname === p)
        .map((e) => (e as PerformanceResourceTiming).nextHopProtocol)
        .filter((protocol) => protocol !== ''),
    path,
  );
}

declare global {
  interface Window {
    __got: unknown[];
    __ready: boolean;
    __echo(value: unknown): Promise<unknown>;
    __close(): void;
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

it('the SSE transport works over HTTP/2 in Chromium, so many tabs share one connection', async () => {
  const { wh, origin, seen } = await startServer();
  const context = await suite.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 800, height: 900 } });
  suite.cleanup(() => context.close());
  // Generous: these waits end on a condition, the deadline only matters when something is broken.
  context.setDefaultTimeout(30_000);
  const errors: string[] = [];
  const pages: Page[] = [];
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
    await page.goto(`${origin}/`);
    pages.push(page);
  }
  // Every tab's event stream is open at once: a seventh and eighth over HTTP/1.1 would hang here.
  await Promise.all(pages.map((page) => page.waitForFunction(() => window.__ready === true)));

  for (let k = 0; k < EVENTS; k++) await wh.publish('news', 'item', k);
  await Promise.all(pages.map((page) => page.waitForFunction((n) => window.__got.length >= n, EVENTS)));
  for (const page of pages) expect(await page.evaluate(() => window.__got)).toEqual(range(EVENTS));
  expect(await Promise.all(pages.map((page, i) => page.evaluate((v) => window.__echo(v), i)))).toEqual(range(TABS));
  await screenshot(pages[0]!);

  // Closing each client ends its event stream, which is when Resource Timing records it.
  await Promise.all(pages.map((page) => page.evaluate(() => window.__close())));
  const observed: Array<{ sse: string[]; send: string[]; session: string[] }> = [];
  for (const page of pages) {
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/wirehop/sse'));
    observed.push({ session: await protocolsOf(page, '/wirehop/session'), sse: await protocolsOf(page, '/wirehop/sse'), send: await protocolsOf(page, '/wirehop/send') });
  }
  for (const { sse, send } of observed) {
    expect(sse.length).toBeGreaterThan(0);
    expect(send.length).toBeGreaterThan(0);
    expect(new Set([...sse, ...send])).toEqual(new Set(['h2']));
  }
  // One connection for the context (Chromium may open one more speculatively).
  expect(seen.h2Sessions).toBeGreaterThanOrEqual(1);
  expect(seen.h2Sessions).toBeLessThanOrEqual(2);
  expect(new Set(seen.requests.map((r) => r.version))).toEqual(new Set(['2.0']));
  expect(seen.requests.filter((r) => r.method === 'GET' && r.path === '/wirehop/sse')).toHaveLength(TABS);
  expect(errors).toEqual([]);
}, 90_000);
