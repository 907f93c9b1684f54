/**
 * The chat example (examples/chat) in a real Chromium: two pages, Ada forced onto SSE and Bob onto
 * WebSocket with the page's own transport selector, chat with each other through the page's own
 * form; then one of them goes offline, sends messages meanwhile (the client queues them), comes back,
 * and the other page shows them exactly once, in order.
 *
 * Each page is served through its own @wirehop/netsim proxy, so that one page's connections can be
 * cut without touching the other's. Going offline is DevTools' emulation (`context.setOffline`);
 * for the WebSocket page it is combined with `proxy.cutAll()`, because Chromium's emulation holds an
 * already open WebSocket rather than closing it (see test/browser/ai-stream.test.ts for what was
 * measured): without the cut, the messages typed offline could simply wait inside the browser's
 * socket and go out on it later, and wirehop's outbox would never be exercised. For the SSE page
 * setOffline alone is a real cut: its POSTs fail, and the client drops the transport and queues.
 *
 * What the DOM can and cannot prove: the page drops a message whose id it has already shown
 * (examples/chat/public/app.js merges history and live messages by id), so a *delivery* duplicate
 * would be hidden; but the server stamps a new id each time it handles a publication, so a message
 * *handled twice* (the queued send going out on two connections) would show up as two lines. The
 * exactly-once delivery of the stream itself is proven without that filter in ai-stream.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, type NetsimProxy } from '@wirehop/netsim';
import type { Page } from 'playwright-core';
import { createChatServer, type ChatServer } from '../../examples/chat/src/server.js';
import { eventually, screenshot, useBrowser, type TestPage } from '../helpers/browser.js';

const browser = useBrowser();
let server: ChatServer | undefined;
const proxies: NetsimProxy[] = [];

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
  await server?.close();
  server = undefined;
});

interface Person extends TestPage {
  nick: string;
  transport: 'sse' | 'websocket';
  proxy: NetsimProxy;
}

/** Opens the chat through a proxy of its own, picks the transport, signs in; resolves once connected. */
async function signIn(nick: string, transport: Person['transport']): Promise<Person> {
  const proxy = await startProxy({ target: { port: server!.port } });
  proxies.push(proxy);
  const tab = await browser.newPage();
  const { page } = tab;
  await page.goto(`${proxy.url}/`);
  await page.selectOption('#transport', transport);
  await page.fill('#nick', nick);
  await page.press('#nick', 'Enter');
  const status = page.locator('#status');
  await eventually(() => status.getAttribute('data-state')).toBe('connected');
  await eventually(() => status.textContent()).toContain(transport);
  return { ...tab, nick, transport, proxy };
}

/** Ada on SSE and Bob on WebSocket, both in the lobby, each seeing the other in the member list. */
async function adaAndBob(): Promise<{ ada: Person; bob: Person }> {
  server = await createChatServer({ port: 0, hostname: '127.0.0.1' });
  const ada = await signIn('Ada', 'sse');
  const bob = await signIn('Bob', 'websocket');
  for (const [who, other] of [[ada, bob], [bob, ada]] as const) {
    await eventually(() => who.page.locator('#members li').allTextContents()).toContain(other.nick);
  }
  return { ada, bob };
}

/** Types a message into the composer and sends it with Enter, as a person would. */
async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  // The composer empties as soon as the page hands the message to the client (sent or queued).
  await eventually(() => page.inputValue('#text')).toBe('');
}

/** The message lines of the room on screen, `from: text`, top to bottom (notices left out). */
function lines(page: Page): Promise<string[]> {
  return page.locator('#messages li:not(.notice)').evaluateAll((items) =>
    items.map((li) => `${li.querySelector('.from')?.textContent}: ${li.lastChild?.textContent}`),
  );
}

describe('chat in Chromium', () => {
  it('two pages on different transports see each other’s messages in order', async () => {
    const { ada, bob } = await adaAndBob();
    const sent = [
      ['Ada', 'hello from sse'],
      ['Bob', 'hello from websocket'],
      ['Ada', 'one'],
      ['Ada', 'two'],
      ['Bob', 'three'],
      ['Bob', 'four'],
    ] as const;
    for (const [nick, text] of sent) {
      const from = nick === 'Ada' ? ada : bob;
      await say(from.page, text);
      // Each waits for its own line, so the order of sending across two pages is the order above.
      await eventually(() => lines(from.page)).toContain(`${nick}: ${text}`);
    }
    const expected = sent.map(([nick, text]) => `${nick}: ${text}`);
    await eventually(() => lines(ada.page)).toEqual(expected);
    await eventually(() => lines(bob.page)).toEqual(expected);
    await screenshot(ada.page, 'ada');
    await screenshot(bob.page, 'bob');
    expect([...ada.errors, ...bob.errors]).toEqual([]);
  }, 90_000);

  it.each([
    { offline: 'Ada', transport: 'sse', cut: 'offline' },
    { offline: 'Bob', transport: 'websocket', cut: 'offline + proxy cut' },
  ] as const)('messages sent while $offline ($transport) is offline arrive once, in order ($cut)', async ({ offline, cut }) => {
    const { ada, bob } = await adaAndBob();
    const [away, stays] = offline === 'Ada' ? [ada, bob] : [bob, ada];
    await say(away.page, 'before the outage');
    await eventually(() => lines(stays.page)).toEqual([`${away.nick}: before the outage`]);

    await away.context.setOffline(true);
    if (cut === 'offline + proxy cut') expect(away.proxy.cutAll()).toBeGreaterThan(0);
    const acceptedAtCut = away.proxy.stats.accepted;
    const queued = Array.from({ length: 5 }, (_, i) => `queued ${i + 1}`);
    for (const text of queued) await say(away.page, text);
    // On SSE the client notices at once (its next POST fails); on WebSocket, Chromium may report the
    // closed socket only when the emulation ends. Either way nothing typed offline got through.
    if (away.transport === 'sse') await eventually(() => away.page.locator('#status').getAttribute('data-state')).toBe('reconnecting');
    await screenshot(away.page, 'offline');
    const stillOffline = await lines(stays.page);
    expect(stillOffline).toEqual([`${away.nick}: before the outage`]);

    await away.context.setOffline(false);
    const expected = ['before the outage', ...queued].map((text) => `${away.nick}: ${text}`);
    await eventually(() => lines(stays.page)).toEqual(expected);
    await eventually(() => lines(away.page)).toEqual(expected);
    await eventually(() => away.page.locator('#status').getAttribute('data-state')).toBe('connected');
    // The session came back over a new TCP connection: the ones open before the outage were destroyed.
    if (cut === 'offline + proxy cut') expect(away.proxy.stats.accepted).toBeGreaterThan(acceptedAtCut);

    // Still exactly once after things settle: a message from the other side, sent after the outage,
    // comes last, so anything handled twice would be in the list by the time it arrives.
    await say(stays.page, 'after the outage');
    const settled = [...expected, `${stays.nick}: after the outage`];
    await eventually(() => lines(away.page)).toEqual(settled);
    await eventually(() => lines(stays.page)).toEqual(settled);
    await screenshot(ada.page, 'ada');
    await screenshot(bob.page, 'bob');
    expect([...ada.errors, ...bob.errors]).toEqual([]);
  }, 90_000);
});
