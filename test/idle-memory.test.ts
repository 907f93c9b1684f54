/**
 * What an idle session keeps alive on the server. Memory per idle connection is a figure users
 * compare libraries on (bench/ measures it); here only the behaviour behind it is asserted: objects
 * that a live session no longer needs can be collected.
 */
import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createClient } from '@wirehop/client';
import { createWirehop } from '@wirehop/server';
import { expect, it } from 'vitest';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections, each after the current job, so that WeakRefs created in it may be cleared. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

it('an open WebSocket session does not keep its upgrade request once the handshake is done', async () => {
  const wh = createWirehop({ onError: () => {} });
  wh.channel('room');
  const listening = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  let upgrade: WeakRef<IncomingMessage> | undefined;
  listening.server.on('upgrade', (req: IncomingMessage) => void (upgrade = new WeakRef(req)));
  const client = createClient({ url: listening.url, transports: ['websocket'], adaptive: false });
  try {
    await client.connect();
    await client.channel('room').subscribe();
    expect(client.transport).toBe('websocket');
    expect(upgrade).toBeDefined();
    await collect();
    expect(upgrade!.deref()).toBeUndefined();
    // The session is live all along: it still carries a publication.
    const got = new Promise((resolve) => client.channel('room').on('news', resolve));
    await wh.publish('room', 'news', { n: 1 });
    expect(await got).toEqual({ n: 1 });
  } finally {
    client.close();
    await wh.close();
    await listening.close();
  }
});
