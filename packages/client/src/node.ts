/**
 * Node entry of @wirehop/client (export condition "node"). Everything from the browser entry, but
 * createClient defaults `WebSocket` to the `ws` package when the runtime has no global WebSocket
 * (Node 20), and makes its HTTP requests with node:http unless `fetch` is given (node-http.ts says
 * why). With `ws`, the `headers` option also goes on the WebSocket upgrade request.
 */
import WebSocket from 'ws';
import { createClientOn } from './client.js';
import { nodeHttp } from './node-http.js';
import type { ClientOptions, Schema, WebSocketLikeConstructor, WirehopClient } from './types.js';

export * from './index.js';

/** The browser entry's createClient, with `ws` as the default WebSocket when there is no global one, and node:http. */
export function createClient<S extends Schema = Schema>(options: ClientOptions): WirehopClient<S> {
  return createClientOn<S>({ ...options, WebSocket: options.WebSocket ?? globalThis.WebSocket ?? (WebSocket as unknown as WebSocketLikeConstructor) }, nodeHttp);
}
