/**
 * A wirehop server on 127.0.0.1 (port 0) with clients that are all closed after the test, so no
 * test leaves sockets or timers behind.
 */
import { createClient, type ClientOptions, type WirehopClient } from '@wirehop/client';
import { createWirehop, type ServerOptions, type Wirehop } from '@wirehop/server';
import { startProxy, type NetsimProxy } from '@wirehop/netsim';

export interface Fixture {
  wh: Wirehop;
  /** Base URL of the wirehop path, straight to the server. */
  url: string;
  /** Base URL of the wirehop path through a netsim proxy: cut, refuse or impair connections. */
  proxied: () => Promise<{ url: string; proxy: NetsimProxy }>;
  client(options?: Partial<ClientOptions>): WirehopClient;
  /** Stops the server abruptly (its port is free again); clients and proxies stay. */
  stopServer(): Promise<void>;
  close(): Promise<void>;
}

export async function startFixture(options: ServerOptions = {}): Promise<Fixture> {
  const wh = createWirehop({ onError: () => {}, ...options });
  const listening = await wh.listen({ port: 0, hostname: '127.0.0.1' });
  const url = `http://127.0.0.1:${listening.port}${wh.path}`;
  const clients: WirehopClient[] = [];
  const proxies: NetsimProxy[] = [];
  return {
    wh,
    url,
    async proxied() {
      const proxy = await startProxy({ target: { port: listening.port } });
      proxies.push(proxy);
      return { url: `${proxy.url}${wh.path}`, proxy };
    },
    client(clientOptions = {}) {
      const client = createClient({ url, ...clientOptions });
      clients.push(client);
      return client;
    },
    async stopServer() {
      await wh.close();
      await listening.close();
    },
    async close() {
      for (const c of clients) c.close();
      for (const p of proxies) await p.close();
      await wh.close();
      await listening.close();
    },
  };
}

export const TRANSPORTS = ['websocket', 'sse'] as const;
