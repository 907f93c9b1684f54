/**
 * A rolling restart seen from real Chromium pages (docs/scaling.md, "Rolling restarts"): two
 * wirehop nodes on one real Redis behind the round-robin TCP balancer, every page on node a, one
 * page per transport. Node a closes while node b publishes and the pages send: each page keeps its
 * session (no `gap`), gets every publication once and in order, and has every message handled once.
 * What is proven here beyond the Node tests is the browser's side: a WebSocket closed with 4003 and
 * an SSE stream (read with fetch) ended by an ERROR frame both make the page resume, elsewhere.
 */
import { createRedisBroker } from '@wirehop/redis';
import { createWirehop, type ListeningServer } from '@wirehop/server';
import { Hono } from 'hono';
import { expect, it } from 'vitest';
import { clientBundle } from '../../examples/kit/src/bundle.js';
import { startBalancer } from '../helpers/balancer.js';
import { clientPage, eventually, screenshot, useBrowser } from '../helpers/browser.js';
import { redisPerFile } from '../helpers/redis-per-file.js';

const ITEMS = 200;
const NOTES = 100;

const browser = useBrowser();
const redis = redisPerFile();

/**
 * The page: a client on `?transports=` (adaptive switching off, so the transport stays what the
 * test chose), subscribed to 'news'. It records items in `__items`, the codes of 'gap' events in
 * `__gaps`, and sets `__ready` once subscribed; `__notes(n)` sends notes 1..n a few ms apart.
 */
const PAGE = clientPage('wirehop drain', `
  const transports = new URLSearchParams(location.search).get('transports').split(',');
  const client = createClient({ url: location.origin + '/wirehop', transports, adaptive: false, auth: { user: transports.join('+') } });
  Object.assign(window, { __items: [], __gaps: [], __ready: false });
  client.on('gap', (gap) => window.__gaps.push(gap.code));
  client.on('state', ({ to, reason }) => (status.textContent = to + ' (' + reason + ') over ' + client.transport + ', ' + window.__items.length + ' items'));
  const news = client.channel('news');
  news.on('item', (data) => {
    window.__items.push(data.i);
    status.textContent = client.state + ' over ' + client.transport + ', ' + window.__items.length + ' items';
  });
  window.__session = () => ({ sid: client.sessionId, state: client.state, transport: client.transport, reconnects: client.stats.reconnects });
  window.__notes = async (n) => {
    for (let j = 1; j <= n; j++) {
      void client.send('note', { j }).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  await client.connect();
  await news.subscribe();
  window.__ready = true;
`);

declare global {
  interface Window {
    __items: number[];
    __gaps: string[];
    __ready: boolean;
    __session(): { sid: string | null; state: string; transport: string | null; reconnects: number };
    __notes(n: number): Promise<void>;
  }
}

interface Node {
  listening: ListeningServer;
  /** Notes as this node handled them: user → their `j`, in order. */
  notes: Map<string, number[]>;
  sessionCount(): number;
  publish(i: number): Promise<unknown>;
}

async function startNode(nodeId: string, prefix: string): Promise<Node> {
  const bundle = await clientBundle();
  const notes = new Map<string, number[]>();
  const wh = createWirehop({
    broker: createRedisBroker({ url: redis.url, prefix, nodeId }),
    authenticate: ({ auth }) => ({ id: (auth as { user: string }).user }),
    onError: () => undefined,
  })
    .channel('news')
    .onMessage('note', (data, session) => {
      const list = notes.get(session.user.id) ?? [];
      notes.set(session.user.id, list);
      list.push((data as { j: number }).j);
    });
  const app = new Hono();
  app.get('/', (c) => c.html(PAGE));
  app.get('/client.js', (c) => c.body(bundle, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  const listening = await wh.listen({ port: 0, hostname: '127.0.0.1', app });
  redis.later(() => listening.close());
  return { listening, notes, sessionCount: () => wh.sessionCount, publish: (i) => wh.publish('news', 'item', { i }) };
}

it('pages on WebSocket and on SSE keep their sessions while their node closes: every item and note once, in order, no gap', async () => {
  const prefix = `wh-browser-drain-${process.pid}:`;
  const a = await startNode('a', prefix);
  const b = await startNode('b', prefix);
  const lb = await startBalancer([a.listening.port]);
  redis.later(() => lb.close());

  const pages = [];
  for (const transports of ['websocket', 'sse']) {
    const { page, errors } = await browser.newPage();
    await page.goto(`${lb.url}/?transports=${transports}`);
    await page.waitForFunction(() => window.__ready === true);
    pages.push({ transports, page, errors, before: await page.evaluate(() => window.__session()) });
  }
  expect(a.sessionCount()).toBe(2);
  lb.setBackends([a.listening.port, b.listening.port]);

  const sending = pages.map(({ page }) => page.evaluate((n) => window.__notes(n), NOTES));
  let closed: Promise<void> | undefined;
  for (let i = 1; i <= ITEMS; i++) {
    await b.publish(i);
    if (i === ITEMS / 4) closed = a.listening.close();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(sending);
  await closed;

  const all = Array.from({ length: ITEMS }, (_, k) => k + 1);
  for (const { transports, page, errors, before } of pages) {
    await eventually(() => page.evaluate(() => window.__items.length)).toBe(ITEMS);
    const notes = () => [...(a.notes.get(transports) ?? []), ...(b.notes.get(transports) ?? [])];
    await eventually(() => notes().length).toBe(NOTES);
    await screenshot(page, transports);
    const after = await page.evaluate(() => window.__session());
    expect({ transports, gaps: await page.evaluate(() => window.__gaps) }).toEqual({ transports, gaps: [] });
    expect(await page.evaluate(() => window.__items)).toEqual(all);
    expect(notes()).toEqual(Array.from({ length: NOTES }, (_, k) => k + 1));
    expect(after).toMatchObject({ sid: before.sid, state: 'connected', transport: transports });
    expect(after.reconnects).toBeGreaterThanOrEqual(1);
    expect(errors).toEqual([]);
  }
  expect(a.sessionCount()).toBe(0);
  expect(b.sessionCount()).toBe(2);
}, 90_000);
