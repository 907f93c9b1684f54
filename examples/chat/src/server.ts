/**
 * The chat server: the web page and the wirehop endpoint (`/wirehop`) on one port.
 *
 * @example
 * const chat = await createChatServer({ port: 0, hostname: '127.0.0.1' });
 * console.log(chat.url); // http://127.0.0.1:54321/
 * await chat.close();
 */
import { clientBundle, pageUrl } from '@wirehop/example-kit';
import { createChat } from './chat.js';
import { SimulatedNetwork, networkRoutes } from './network.js';
import { createWebApp } from './web.js';

export interface ChatServerOptions {
  /** TCP port; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to listen on. Default: Node's (all interfaces). */
  hostname?: string;
  /**
   * A simulated network (a netsim proxy) in front of the chat, with a control panel on the page.
   * `true` puts it on any free port; a number on that port. Default off.
   */
  network?: boolean | number;
}

export interface ChatServer {
  /** Where the page is, e.g. `http://127.0.0.1:3000/`; the wirehop endpoint is `${url}wirehop`. */
  url: string;
  /** The port actually bound (useful with `port: 0`). */
  port: number;
  /** The page through the simulated network, when `network` is on. */
  networkUrl?: string;
  /** Ends every session (clients see `server_closing`) and stops listening. */
  close(): Promise<void>;
}

/** Starts the chat: bundles the browser client (once per process), then listens. */
export async function createChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  let network: SimulatedNetwork | undefined;
  let port = 0;
  const app = await createWebApp(await clientBundle(), () => port);
  app.route('/', networkRoutes(() => network, () => port));
  const wh = createChat();
  const listening = await wh.listen({ port: options.port ?? 3000, hostname: options.hostname, app });
  port = listening.port;
  if (options.network !== undefined && options.network !== false) {
    network = await SimulatedNetwork.start(port, { host: options.hostname, port: options.network === true ? 0 : options.network });
  }
  let closing: Promise<void> | undefined;
  return {
    url: pageUrl(options.hostname, port),
    port,
    networkUrl: network && pageUrl(options.hostname, network.proxy.port),
    close() {
      closing ??= (async () => {
        await network?.close();
        await wh.close();
        await listening.close();
      })();
      return closing;
    },
  };
}
