/**
 * Raw `ws` with the practical broadcast ceiling: the frame is built once per broadcast
 * (Sender.frame, unmasked, as a server sends) and written to every socket, each socket corked until
 * the next tick so a burst of broadcasts leaves in one syscall per socket. Echo is plain ws.send().
 */
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import WebSocket, { WebSocketServer } from 'ws';
import { closeHttp, listenLocal } from './net.js';
import type { BenchServer, Stack } from './types.js';
import { wsClient } from './ws.js';

/** The part of ws's (untyped) Sender used here: lib/sender.js `static frame(data, options)`. */
interface SenderStatic {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}
// `ws` exports Sender (wrapper.mjs, index.js) but its types do not declare it.
const Sender = (wsModule as unknown as { Sender: SenderStatic }).Sender;

const TEXT = 0x01;

function corkedServer(): BenchServer {
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const peers = new Map<WebSocket, Duplex>();
  let corked: Duplex[] | null = null;

  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      peers.set(ws, socket);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('error', () => undefined);
      ws.on('close', () => peers.delete(ws));
    });
  });

  const uncork = () => {
    const sockets = corked ?? [];
    corked = null;
    for (const socket of sockets) socket.uncork();
  };

  return {
    async start(port) {
      return `ws://127.0.0.1:${await listenLocal(http, port)}`;
    },
    broadcast(data) {
      const frame = Buffer.concat(Sender.frame(Buffer.from(data), { fin: true, opcode: TEXT, mask: false, readOnly: true, rsv1: false }));
      if (!corked) {
        corked = [];
        for (const socket of peers.values()) {
          socket.cork();
          corked.push(socket);
        }
        process.nextTick(uncork);
      }
      for (const [ws, socket] of peers) if (ws.readyState === WebSocket.OPEN && socket.writable) socket.write(frame);
    },
    get connections() {
      return peers.size;
    },
    async close() {
      for (const ws of peers.keys()) ws.terminate();
      wss.close();
      await closeHttp(http);
    },
  };
}

export const wsCorked: Stack = {
  id: 'ws-corked',
  label: 'ws corked',
  description: 'raw `ws`, broadcast framed once and written to corked sockets (uncorked next tick): the ceiling',
  server: corkedServer,
  client: wsClient,
};
