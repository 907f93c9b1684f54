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

  /** Ends on a tick that gave no socket a second frame, whatever came before: the next tick is not a burst. */
  async function quiet(p: { downstream: WsDownstream; received: string[] }) {
    const n = p.received.length;
    p.downstream.write('quiet');
    await until(() => p.received.length > n);
  }

  it("sends a socket's first frame of a tick at once, and the frames behind it in one write at the tick's end, in order", async () => {
    const [a, b] = await pairs(2);
    await quiet(a!);
    const before = [a!.writes(), b!.writes()];
    const written = () => [a!.writes() - before[0]!, b!.writes() - before[1]!];
    for (const f of ['a1', 'b1', 'a2', 'a3', 'b2']) (f[0] === 'a' ? a : b)!.downstream.write(f);
    // Before the tick ends: each socket's first frame has reached its socket, nothing else.
    expect(written()).toEqual([1, 1]);
    await until(() => a!.received.length === 4 && b!.received.length === 2);
    expect(a!.received).toEqual(['quiet', 'a1', 'a2', 'a3']);
    expect(b!.received).toEqual(['b1', 'b2']);
    expect(written()).toEqual([2, 2]);
  });

  it('holds every frame from the first after a tick that gave a socket a second frame, until a tick that did not', async () => {
    const [a, b] = await pairs(2);
    await quiet(a!);
    a!.downstream.write('a1');
    a!.downstream.write('a2');
    await until(() => a!.received.length === 3);
    // The tick after that burst: b's only frame waits for the tick's end, and still arrives.
    const held = b!.writes();
    b!.downstream.write('b1');
    expect(b!.writes()).toBe(held);
    await until(() => b!.received.length === 1);
    expect(b!.writes()).toBe(held + 1);
    // That tick gave no socket a second frame: the next one sends at once again.
    b!.downstream.write('b2');
    expect(b!.writes()).toBe(held + 2);
    await until(() => b!.received.length === 2);
    expect(a!.received).toEqual(['quiet', 'a1', 'a2']);
    expect(b!.received).toEqual(['b1', 'b2']);
  });
});
