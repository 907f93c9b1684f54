/**
 * The demo server: the web page and the wirehop endpoint (`/wirehop`) on one port.
 *
 * @example
 * const ai = await createAiStreamServer({ port: 0, hostname: '127.0.0.1' });
 * console.log(ai.url); // http://127.0.0.1:54321/
 * await ai.close();
 */
import { createAiStream, type AiStreamOptions, type AiStreamStats } from './ai.js';
import { clientBundle, pageUrl } from '@wirehop/example-kit';
import { createWebApp } from './web.js';

export interface AiStreamServerOptions extends AiStreamOptions {
  /** TCP port; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to listen on. Default: Node's (all interfaces). */
  hostname?: string;
}

export interface AiStreamServer {
  /** Where the page is, e.g. `http://127.0.0.1:3000/`; the wirehop endpoint is `${url}wirehop`. */
  url: string;
  /** The port actually bound (useful with `port: 0`). */
  port: number;
  /** How many answers and tasks were asked for and actually generated. */
  stats(): AiStreamStats;
  /** Stops generating, ends every session (clients see `server_closing`) and stops listening. */
  close(): Promise<void>;
}

/** Starts the demo: bundles the browser client (once per process), then listens. */
export async function createAiStreamServer(options: AiStreamServerOptions = {}): Promise<AiStreamServer> {
  const { port = 3000, hostname, ...streamOptions } = options;
  const app = await createWebApp(await clientBundle());
  const ai = createAiStream(streamOptions);
  const listening = await ai.wh.listen({ port, hostname, app });
  let closing: Promise<void> | undefined;
  return {
    url: pageUrl(hostname, listening.port),
    port: listening.port,
    stats: ai.stats,
    close() {
      closing ??= (async () => {
        ai.stop();
        await ai.wh.close();
        await listening.close();
      })();
      return closing;
    },
  };
}
