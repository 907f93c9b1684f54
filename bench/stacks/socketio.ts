/**
 * Socket.IO 4, in two client modes: websocket only, and the default (HTTP long-polling first, then
 * upgraded to WebSocket in the background). Broadcast is io.emit(), which encodes once per packet.
 * Reconnection is off so that a dropped connection shows up as lost messages, not a silent retry.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';
import { closeHttp, listenLocal } from './net.js';
import type { BenchClient, BenchConnection, BenchServer, Stack } from './types.js';

const EVENT = 'm';

function socketioServer(): BenchServer {
  const http = createServer();
  const server = new Server(http, { serveClient: false, transports: ['polling', 'websocket'], perMessageDeflate: false, httpCompression: false });
  server.on('connection', (socket) => {
    socket.on(EVENT, (data: string) => socket.emit(EVENT, data));
  });
  return {
    async start(port) {
      return `http://127.0.0.1:${await listenLocal(http, port)}`;
    },
    broadcast(data) {
      server.emit(EVENT, data);
    },
    get connections() {
      return server.engine.clientsCount;
    },
    async close() {
      server.disconnectSockets(true);
      server.engine.close();
      await closeHttp(http);
    },
  };
}

function socketioClient(mode: 'websocket' | 'polling'): BenchClient {
  let errors = 0;
  return {
    get errors() {
      return errors;
    },
    connect(url) {
      return new Promise<BenchConnection>((resolve, reject) => {
        const socket = io(url, {
          forceNew: true, // one engine.io connection per client, no multiplexing
          reconnection: false,
          transports: mode === 'websocket' ? ['websocket'] : ['polling', 'websocket'],
        });
        let listener: (data: string) => void = () => undefined;
        let closing = false;
        socket.on(EVENT, (data: string) => listener(data));
        socket.once('connect', () =>
          resolve({
            send: (data) => void socket.emit(EVENT, data),
            onMessage: (l) => void (listener = l),
            close: () => {
              closing = true;
              socket.disconnect();
            },
          }),
        );
        socket.once('connect_error', (error) => {
          errors++;
          reject(error);
        });
        socket.on('disconnect', () => void (closing || errors++));
      });
    },
    async dispose() {},
  };
}

function socketio(mode: 'websocket' | 'polling'): Stack {
  return {
    id: mode === 'websocket' ? 'socketio-ws' : 'socketio',
    label: mode === 'websocket' ? 'Socket.IO ws' : 'Socket.IO default',
    description:
      mode === 'websocket'
        ? 'Socket.IO 4, client transports: [websocket]'
        : 'Socket.IO 4, default client: long-polling, then upgraded to WebSocket',
    server: socketioServer,
    client: () => socketioClient(mode),
  };
}

export const socketioWs = socketio('websocket');
export const socketioDefault = socketio('polling');
