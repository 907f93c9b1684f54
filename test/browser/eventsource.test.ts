/**
 * Chromium's own `EventSource`, no wirehop client, reading a channel's read-only stream
 * (`GET {path}/events`, protocol.md §5a). The page is served through a @wirehop/netsim proxy; the
 * test cuts every connection and refuses new ones while publications continue, then lets the
 * browser back in. The browser reconnects by itself, sends `Last-Event-ID`, and the page ends with
 * every publication exactly once, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { startProxy, type NetsimProxy } from '@wirehop/netsim';
import { createWirehop, type ListeningServer, type StreamPosition, type Wirehop } from '@wirehop/server';
import type { Page } from 'playwright-core';
import { eventually, screenshot, useBrowser } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';

const browser = useBrowser();
let wh: Wirehop | undefined;
let listening: ListeningServer | undefined;
let proxy: NetsimProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  await wh?.close();
  await listening?.close();
  proxy = wh = listening = undefined;
});

/** A page that only uses the browser's EventSource and shows what it got. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>EventSource</title>
<p>state: <b id="state">connecting</b>, events: <b id="count">0</b>, errors: <b id="errors">0</b></p>
<ol id="log"></ol>
<script>
  window.got = [];
  window.gaps = [];
  window.errors = 0;
  const es = new EventSource('/wirehop/events?channel=feed');
  const show = () => {
    document.getElementById('state').textContent = ['connecting', 'open', 'closed'][es.readyState];
    document.getElementById('count').textContent = String(got.length);
    document.getElementById('errors').textContent = String(errors);
  };
  es.onopen = show;
  es.onmessage = (e) => {
    const { i } = JSON.parse(e.data);
    got.push({ i, id: e.lastEventId });
    const li = document.createElement('li');
    li.textContent = i + ' (' + e.lastEventId + ')';
    document.getElementById('log').append(li);
    show();
  };
  es.addEventListener('gap', (e) => gaps.push(JSON.parse(e.data)));
  window.unavailable = [];
  es.addEventListener('unavailable', (e) => unavailable.push(JSON.parse(e.data)));
  es.onerror = () => {
    errors++;
    show();
  };
  window.es = es;
</script>`;

interface PageState {
  got: Array<{ i: number; id: string }>;
  gaps: unknown[];
  unavailable: Array<{ code: string; retryMs: number }>;
  errors: number;
  readyState: number;
}

describe('EventSource in Chromium', () => {
  it('reconnects by itself with Last-Event-ID after a cut and has every publication once, in order', async () => {
    const lastEventIds: Array<string | null> = [];
    wh = createWirehop({
      onError: () => {},
      authenticate: ({ headers, channel }) => {
        lastEventIds.push(headers.get('last-event-id'));
        return { id: `reader-${channel}` };
      },
    });
    wh.channel('feed', { eventSource: true });
    const app = new Hono();
    app.get('/', (c) => c.html(PAGE));
    listening = await wh.listen({ port: 0, hostname: '127.0.0.1', app });
    proxy = await startProxy({ target: { port: listening.port } });

    const { page, errors } = await browser.newPage();
    await page.goto(`${proxy.url}/`);
    const state = () => page.evaluate(() => {
      const w = window as unknown as PageState & { es: EventSource };
      return { got: w.got, gaps: w.gaps, errors: w.errors, readyState: w.es.readyState };
    });
    await eventually(async () => (await state()).readyState).toBe(1);
    await waitFor(() => wh!.eventStreamCount === 1, { what: 'the stream on the server' });

    const positions: StreamPosition[] = [];
    const publish = async (from: number, to: number) => {
      for (let i = from; i <= to; i++) positions.push(await wh!.publish('feed', 'item', { i }));
    };
    await publish(1, 20);
    await eventually(async () => (await state()).got.length).toBe(20);

    // The cut: every connection dropped, new ones refused, while 20 more are published.
    proxy.set({ refuse: true });
    expect(proxy.cutAll()).toBeGreaterThan(0);
    await waitFor(() => wh!.eventStreamCount === 0, { what: 'the server to see the stream go' });
    await publish(21, 40);
    // The browser tried to come back during the cut (and was refused): it was really away.
    await waitFor(() => proxy!.stats.refused > 0, { what: 'a reconnection attempt during the cut' });
    expect(wh.eventStreamCount).toBe(0);
    proxy.heal();

    await eventually(async () => (await state()).got.length).toBe(40);
    await publish(41, 50);
    await eventually(async () => (await state()).got.length).toBe(50);

    const final = await state();
    expect(final.got.map((g) => g.i)).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
    expect(final.got.map((g) => g.id)).toEqual(positions.map((p) => `${p.offset}@${p.epoch}`));
    expect(final.gaps).toEqual([]);
    expect(final.errors).toBeGreaterThan(0);
    expect(final.readyState).toBe(1);
    // The first request had no Last-Event-ID; the one that got back in sent the 20th publication's.
    expect(lastEventIds[0]).toBeNull();
    expect(lastEventIds.at(-1)).toBe(`20@${positions[0]!.epoch}`);
    await screenshot(page);
    expect(errors).toEqual([]);
  }, 90_000);

  it('over maxEventStreams, comes back by itself once a slot is free, instead of giving up', async () => {
    wh = createWirehop({ onError: () => {}, maxEventStreams: 1 });
    wh.channel('feed', { eventSource: true });
    const app = new Hono();
    app.get('/', (c) => c.html(PAGE));
    listening = await wh.listen({ port: 0, hostname: '127.0.0.1', app });

    const state = (page: Page) =>
      page.evaluate(() => {
        const w = window as unknown as PageState & { es: EventSource };
        return { got: w.got, unavailable: w.unavailable, errors: w.errors, readyState: w.es.readyState };
      });
    const holder = (await browser.newPage()).page;
    await holder.goto(`${listening.url.replace(/\/wirehop$/, '')}/`);
    await eventually(async () => (await state(holder)).readyState).toBe(1);
    const waiting = (await browser.newPage()).page;
    await waiting.goto(`${listening.url.replace(/\/wirehop$/, '')}/`);
    // Told to come back later, and still trying (CONNECTING), not CLOSED as after a 503.
    await eventually(async () => (await state(waiting)).unavailable.map((u) => u.code)).toEqual(['stream_limit']);
    expect((await state(waiting)).readyState).not.toBe(2);
    expect(wh.eventStreamCount).toBe(1);

    await holder.evaluate(() => (window as unknown as { es: EventSource }).es.close());
    await eventually(async () => (await state(waiting)).readyState).toBe(1);
    await wh.publish('feed', 'item', { i: 1 });
    await eventually(async () => (await state(waiting)).got.map((g) => g.i)).toEqual([1]);
    await screenshot(waiting);
  }, 90_000);
});
