/**
 * SSE+POST upstream with several POSTs in flight (protocol.md §5): the client keeps as many in
 * flight as WELCOME.posts allows, the bodies travel on different connections through a jittery
 * link and overtake each other, and the application still gets every message once, in order.
 */
import { createClient, type WirehopClient } from '@wirehop/client';
import { startProxy, type NetsimProxy } from '@wirehop/netsim';
import { createWirehop, type ListeningServer, type Wirehop } from '@wirehop/server';
import { afterEach, describe, expect, it } from 'vitest';
import { audit, exactly } from './helpers/streams.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const MESSAGES = 200;

async function setup(postsInFlight: number) {
  const wh: Wirehop = createWirehop({ onError: () => {}, limits: { postsInFlight } });
  const listening: ListeningServer = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  cleanup.push(() => listening.close());
  // Jitter per chunk, independent per connection: bodies on different connections reorder.
  const proxy: NetsimProxy = await startProxy({ target: { port: listening.port }, impairment: { latencyMs: 5, jitterMs: 50 } });
  cleanup.push(() => proxy.close());
  let open = 0;
  let most = 0;
  listening.server.on('request', (req, res) => {
    if (!req.url?.endsWith('/send')) return;
    most = Math.max(most, ++open);
    res.on('close', () => open--);
  });
  const got: number[] = [];
  wh.onMessage('n', (n) => void got.push(n as number));
  const client: WirehopClient = createClient({ url: proxy.url + wh.path, transports: ['sse'], adaptive: false });
  cleanup.push(() => client.close());
  return { wh, client, got, most: () => most };
}

describe('several POSTs in flight over a jittery link', () => {
  it.each([1, 4])('postsInFlight %i: every message once, in order, with at most that many POSTs at once', async (posts) => {
    const { client, got, most } = await setup(posts);
    await client.connect();
    const acked: Array<Promise<void>> = [];
    for (let i = 0; i < MESSAGES; i++) {
      acked.push(client.send('n', i));
      // A task of its own for each: a POST leaves per task when one may.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(acked);
    expect(audit(got, MESSAGES)).toEqual(exactly(MESSAGES));
    expect(client.stats.reconnects).toBe(0);
    if (posts === 1) expect(most()).toBe(1);
    else {
      expect(most()).toBeGreaterThan(1);
      expect(most()).toBeLessThanOrEqual(posts);
    }
  });
});
