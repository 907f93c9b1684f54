/**
 * The ai-stream example in a real Chromium: the page asks for an answer and starts a long task,
 * the network goes away mid-answer for a second or two, comes back, and the page must end up with
 * tokens 0…N-1 exactly (nothing missing, nothing repeated, in order) and progress 0…100 %, while the
 * server generated the answer once. On each transport: auto, websocket and sse.
 *
 * How the network goes away. DevTools' offline emulation (`context.setOffline`) is the tool, and
 * what it does in Chromium decides how it is used. Measured with Chromium 156, raw page code, no
 * wirehop involved:
 * - new requests and new WebSockets fail at once (`Failed to fetch`; WebSocket error, close 1006);
 * - an already open response stream (a fetch body, an EventSource) keeps flowing, untouched;
 * - an already open WebSocket is *not* closed (readyState stays OPEN, no event): its frames are held
 *   both ways for as long as the emulation lasts (20 s tried) and delivered when it ends.
 * So setOffline alone does not cut an open WebSocket: with the client at 4fc0b20 the page saw a
 * slow link, no drop, and completed the answer from the held frames with no reconnect, which
 * proves nothing about resumption. For `websocket` and `auto` (which starts on WebSocket) the page
 * is therefore served through a @wirehop/netsim TCP proxy and the cut is setOffline(true) *plus*
 * `proxy.cutAll()`, which destroys the page's open TCP connections: real sockets, really closed.
 * Chromium reports that close either at once or only when the emulation ends (both seen); either
 * way the page resumes on a new connection, and its reconnect count shows the cut was real.
 * For `sse`, setOffline alone is a real cut: the event stream would flow on, but the client
 * acknowledges events with POSTs every 50 ms, the next POST fails, and the client drops the
 * transport and reconnects, as it would on a real network loss.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, type NetsimProxy } from '@wirehop/netsim';
import type { Page } from 'playwright-core';
import { ANSWER_TEXT, ANSWER_TOKENS } from '../../examples/ai-stream/src/answer.js';
import { createAiStreamServer, type AiStreamServer } from '../../examples/ai-stream/src/server.js';
import { eventually, screenshot, useBrowser, type TestPage } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';

const N = ANSWER_TOKENS.length;
/** 20 ms a token: the answer takes about 6 s, so a cut after 60 tokens is well inside it. */
const TOKEN_INTERVAL_MS = 20;
/** 30 ms a percent: the task takes about 3 s, and is cut too. */
const PROGRESS_INTERVAL_MS = 30;
/** The outage lasts until the server has published this many tokens more: about 1.5 s. */
const TOKENS_WHILE_OFFLINE = 75;

const browser = useBrowser();
let server: AiStreamServer | undefined;
const proxies: NetsimProxy[] = [];

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
  await server?.close();
  server = undefined;
});

/** The server, a proxy in front of it, and a page opened through the proxy with `?transport=`. */
async function openPage(transport: string): Promise<TestPage & { proxy: NetsimProxy }> {
  server = await createAiStreamServer({
    port: 0,
    hostname: '127.0.0.1',
    tokenIntervalMs: TOKEN_INTERVAL_MS,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
  });
  const proxy = await startProxy({ target: { port: server.port } });
  proxies.push(proxy);
  const tab = await browser.newPage();
  await tab.page.goto(`${proxy.url}/?transport=${transport}`);
  // Subscribed to both channels (the buttons are enabled then), on the transport asked for.
  await tab.page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('#ask')!.disabled);
  const badge = tab.page.locator('#badge');
  if (transport === 'auto') await eventually(() => badge.getAttribute('data-state')).toBe('connected');
  else await eventually(() => badge.getAttribute('data-transport')).toBe(transport);
  return { ...tab, proxy };
}

/** What the page recorded (see public/app.js). */
const tokensOf = (page: Page) => page.evaluate(() => window.__tokens.length);
const reconnectsOf = async (page: Page) => Number(await page.locator('#badge').getAttribute('data-reconnects'));

/** Waits for the answer's `done` and the task's 100 %, then checks both streams and the server. */
async function expectCompleteStreams(page: Page): Promise<void> {
  await page.waitForFunction(() => window.__answerDone !== null && window.__progress.at(-1) === 100, undefined, { timeout: 60_000 });
  const { tokens, done, progress } = await page.evaluate(() => ({ tokens: window.__tokens, done: window.__answerDone, progress: window.__progress }));
  expect(tokens).toEqual(Array.from({ length: N }, (_, i) => i));
  expect(done).toBe(N);
  expect(progress).toEqual(Array.from({ length: 101 }, (_, i) => i));
  expect(await page.locator('#answer').textContent()).toBe(ANSWER_TEXT);
  expect(await page.locator('#answer').getAttribute('data-state')).toBe('done');
  // Asked once, generated once: nothing on the server reacted to the reconnect.
  expect(server!.stats()).toMatchObject({ asks: 1, answersStarted: 1, tokensPublished: N, tasksStarted: 1, running: 0 });
}

declare global {
  interface Window {
    __tokens: number[];
    __answerDone: number | null;
    __progress: number[];
  }
}

describe('ai-stream in Chromium', () => {
  it.each([
    { transport: 'auto', cut: 'offline + proxy cut' },
    { transport: 'websocket', cut: 'offline + proxy cut' },
    { transport: 'sse', cut: 'offline' },
  ] as const)('resumes at the exact next token after going offline mid-answer ($transport, $cut)', async ({ transport, cut }) => {
    const { page, context, proxy, errors } = await openPage(transport);
    await page.click('#ask');
    await page.click('#run-task');
    await page.waitForFunction(() => window.__tokens.length >= 60);

    await context.setOffline(true);
    if (cut === 'offline + proxy cut') expect(proxy.cutAll()).toBeGreaterThan(0);
    const publishedAtCut = server!.stats().tokensPublished;
    if (transport === 'sse') await eventually(() => page.locator('#badge').getAttribute('data-state')).toBe('reconnecting');
    // The outage is measured in the server's progress, not in sleeps: it generates on meanwhile.
    await waitFor(() => server!.stats().tokensPublished >= publishedAtCut + TOKENS_WHILE_OFFLINE, {
      what: `${TOKENS_WHILE_OFFLINE} tokens published while the page is offline`,
    });
    const seenOffline = await tokensOf(page);
    // The page really is cut off: most of what was published meanwhile has not reached it.
    expect(seenOffline).toBeLessThan(publishedAtCut + TOKENS_WHILE_OFFLINE - 50);
    expect(seenOffline).toBeLessThan(N);
    await screenshot(page, 'offline');

    await context.setOffline(false);
    await expectCompleteStreams(page);
    // The resume happened: the session was carried by a new connection, not by held frames.
    expect(await reconnectsOf(page)).toBeGreaterThanOrEqual(1);
    await eventually(() => page.locator('#badge').getAttribute('data-state')).toBe('connected');
    await screenshot(page);
    expect(errors).toEqual([]);
  }, 120_000);

  it.each(['websocket', 'sse'] as const)("resumes after the page's own Cut connection button (%s)", async (transport) => {
    const { page, errors } = await openPage(transport);
    await page.click('#ask');
    await page.click('#run-task');
    await page.waitForFunction(() => window.__tokens.length >= 60);
    // No DevTools: the page closes its own sockets and streams (public/network.js) for 3 s.
    await page.click('#cut');
    await eventually(() => page.locator('#badge').getAttribute('data-state')).toBe('reconnecting');
    await expectCompleteStreams(page);
    expect(await reconnectsOf(page)).toBeGreaterThanOrEqual(1);
    await screenshot(page);
    expect(errors).toEqual([]);
  }, 120_000);
});
