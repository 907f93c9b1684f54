/**
 * Node entry of @wirehop/client (export condition "node"). Everything from the browser entry, but
 * createClient defaults `WebSocket` to the `ws` package when the runtime has no global WebSocket
 * (Node 20). With `ws`, the `headers` option also goes on the WebSocket upgrade request.
 */
import WebSocket from 'ws';
import { createClient as createBrowserClient } from './client.js';
import type { ClientOptions, Schema, WebSocketLikeConstructor, WirehopClient } from './types.js';

export * from './index.js';

/** {@link createBrowserClient}, with `ws` as the default WebSocket when there is no global one. */
export function createClient<S extends Schema = Schema>(options: ClientOptions): WirehopClient<S> {
  return createBrowserClient<S>({ ...options, WebSocket: options.WebSocket ?? globalThis.WebSocket ?? (WebSocket as unknown as WebSocketLikeConstructor) });
}
