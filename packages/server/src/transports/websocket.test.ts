import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { WsDownstream } from './websocket.js';

describe('WsDownstream', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const done of cleanup.splice(0)) done();
  });

  /** `n` real WebSocket pairs on 127.0.0.1: the server side as downstreams, each counting its socket's writes. */
  async function pairs(n: number) {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => {
      wss.close();
      server.close();
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out: Array<{ downstream: WsDownstream; writes: () => number; received: string[] }> = [];
    for (let i = 0; i < n; i++) {
      const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
      const client = new WebSocket(url);
      cleanup.push(() => client.terminate());
      const received: string[] = [];
      client.on('message', (data) => received.push(String(data)));
      await new Promise((resolve) => client.once('open', resolve));
      const ws = await accepted;
      const socket = (ws as unknown as { _socket: Socket })._socket;
      // Counts what reaches the socket's own write calls: a corked socket hands them all at once.
      let writes = 0;
      for (const method of ['_write', '_writev'] as const) {
        const original = socket[method]!.bind(socket) as (...args: unknown[]) => void;
        (socket as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
          writes++;
          original(...args);
        };
      }
      out.push({ downstream: new WsDownstream(ws, socket), writes: () => writes, received });
    }
    return out;
  }

  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it("leaves each socket's frames of one tick in one write, for every socket written in that tick, in order", async () => {
    const [a, b] = await pairs(2);
    for (const f of ['a1', 'b1', 'a2', 'a3', 'b2']) (f[0] === 'a' ? a : b)!.downstream.write(f);
    await until(() => a!.received.length === 3 && b!.received.length === 2);
    expect(a!.received).toEqual(['a1', 'a2', 'a3']);
    expect(b!.received).toEqual(['b1', 'b2']);
    expect([a!.writes(), b!.writes()]).toEqual([1, 1]);
    // The next tick's frames go out too: every socket was uncorked.
    a!.downstream.write('a4');
    b!.downstream.write('b3');
    await until(() => a!.received.length === 4 && b!.received.length === 3);
    expect(a!.received.at(-1)).toBe('a4');
    expect(b!.received.at(-1)).toBe('b3');
    expect([a!.writes(), b!.writes()]).toEqual([2, 2]);
  });
});
