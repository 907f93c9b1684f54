import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { WsDownstream } from './websocket.js';

const endOfTick = () => new Promise<void>((resolve) => process.nextTick(resolve));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WsDownstream', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  /** A real WebSocket on 127.0.0.1: the server end as a WsDownstream with its socket, and what the client end received. */
  async function pair(): Promise<{ d: WsDownstream; socket: Duplex; received: string[] }> {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    const accepted = new Promise<{ d: WsDownstream; socket: Duplex }>((resolve) =>
      http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => resolve({ d: new WsDownstream(ws, socket), socket }))),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const received: string[] = [];
    client.on('message', (data) => received.push(String(data)));
    cleanups.push(() => {
      client.terminate();
      http.close();
    });
    await new Promise((resolve) => client.once('open', resolve));
    return { ...(await accepted), received };
  }

  async function receivedAll(received: string[], count: number): Promise<void> {
    while (received.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  it("writes a tick's only frame at once, never holding it for the end of the tick", async () => {
    const { d, socket, received } = await pair();
    for (const frame of ['a', 'b', 'c']) {
      d.write(frame);
      expect(socket.writableCorked).toBe(0);
      await nextTurn();
    }
    await receivedAll(received, 3);
    expect(received).toEqual(['a', 'b', 'c']);
  });

  it("holds a burst's frames after the first for one write at the end of the tick, and the next tick's from the first, until a tick has one frame", async () => {
    const { d, socket, received } = await pair();
    d.write('1');
    expect(socket.writableCorked).toBe(0); // the first leaves at once
    d.write('2');
    d.write('3');
    expect(socket.writableCorked).toBe(1); // the rest wait for the end of the tick
    await endOfTick();
    expect(socket.writableCorked).toBe(0);
    await nextTurn();
    // The last tick was a burst: this one is held from its first frame.
    d.write('4');
    expect(socket.writableCorked).toBe(1);
    await endOfTick();
    expect(socket.writableCorked).toBe(0);
    await nextTurn();
    // The last tick had one frame: at once again.
    d.write('5');
    expect(socket.writableCorked).toBe(0);
    await receivedAll(received, 5);
    expect(received).toEqual(['1', '2', '3', '4', '5']);
  });
});
