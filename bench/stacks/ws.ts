/**
 * Raw `ws`: the floor every WebSocket stack stands on. One message per frame, no protocol, no
 * sessions; broadcast is a loop of ws.send(). Its client half is shared by ws-corked.
 */
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { closeHttp, listenLocal } from './net.js';
import type { BenchClient, BenchConnection, BenchServer, Stack } from './types.js';

function wsServer(): BenchServer {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => undefined);
  });
  return {
    async start(port) {
      return `ws://127.0.0.1:${await listenLocal(http, port)}`;
    },
    broadcast(data) {
      for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    get connections() {
      return wss.clients.size;
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await closeHttp(http);
    },
  };
}

/** A `ws` client; `url` is ws://host:port. */
export function wsClient(): BenchClient {
  let errors = 0;
  return {
    get errors() {
      return errors;
    },
    connect(url) {
      return new Promise<BenchConnection>((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        let listener: (data: string) => void = () => undefined;
        let closing = false;
        ws.on('message', (data: Buffer) => listener(data.toString()));
        ws.once('open', () =>
          resolve({
            send: (data) => ws.send(data),
            onMessage: (l) => void (listener = l),
            close: () => {
              closing = true;
              ws.close();
            },
          }),
        );
        ws.once('error', (error) => {
          errors++;
          reject(error);
        });
        ws.once('close', () => void (closing || errors++));
      });
    },
    async dispose() {},
  };
}

export const ws: Stack = {
  id: 'ws',
  label: 'ws',
  description: 'raw `ws`: ws.send() per message and per recipient; the baseline of every ratio',
  server: wsServer,
  client: wsClient,
};
