/**
 * test/helpers/balancer.ts: connection-level round robin without affinity, skipping backends that
 * refuse, and resetting the client when none accepts. Backends here are plain TCP servers that
 * greet each connection with their port and echo what they receive, so the client can see where it
 * landed and that a connection stays there.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startBalancer, type Balancer } from './balancer.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function backend(): Promise<{ port: number; server: Server; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(`${(server.address() as AddressInfo).port}\n`);
    socket.on('data', (d) => socket.write(`echo:${d.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    return closed;
  };
  closers.push(close);
  return { port, server, close };
}

async function balancer(ports: number[]): Promise<Balancer> {
  const lb = await startBalancer(ports);
  closers.push(() => lb.close());
  return lb;
}

/** Opens a connection through the balancer; resolves with a reader of the lines it receives. */
async function open(port: number): Promise<{ socket: Socket; line: () => Promise<string> }> {
  const socket = connect({ host: '127.0.0.1', port });
  let buffered = '';
  const waiting: (() => void)[] = [];
  socket.on('data', (d) => {
    buffered += d.toString();
    waiting.splice(0).forEach((wake) => wake());
  });
  const line = async (): Promise<string> => {
    for (;;) {
      const at = buffered.indexOf('\n');
      if (at >= 0) {
        const result = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        return result;
      }
      await new Promise<void>((resolve, reject) => {
        waiting.push(resolve);
        socket.once('error', reject);
        socket.once('close', () => reject(new Error('closed')));
      });
    }
  };
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, line };
}

/** Connects, reads which backend answered, closes. */
async function landOn(port: number): Promise<number> {
  const { socket, line } = await open(port);
  const landed = Number(await line());
  socket.destroy();
  return landed;
}

describe('startBalancer', () => {
  it('spreads consecutive connections round robin, 2/2/2 over 3 backends, each connection staying on its backend', async () => {
    const [a, b, c] = await Promise.all([backend(), backend(), backend()]);
    const lb = await balancer([a!.port, b!.port, c!.port]);
    expect(lb.url).toBe(`http://127.0.0.1:${lb.port}`);

    const landed: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { socket, line } = await open(lb.port);
      const first = Number(await line());
      // Several exchanges on one connection all reach the same backend (it echoes them back).
      socket.write('one\n');
      expect(await line()).toBe('echo:one');
      socket.write('two\n');
      expect(await line()).toBe('echo:two');
      landed.push(first);
      socket.destroy();
    }
    expect(landed).toEqual([a!.port, b!.port, c!.port, a!.port, b!.port, c!.port]);
    expect(lb.stats().connections).toEqual({ [a!.port]: 2, [b!.port]: 2, [c!.port]: 2 });
  });

  it('skips a backend that refuses, and resets the client when every backend refuses', async () => {
    const [a, b, c] = await Promise.all([backend(), backend(), backend()]);
    const lb = await balancer([a!.port, b!.port, c!.port]);
    await b!.close();

    // Rotation positions a, b (down: goes on to c), c, a.
    const landed = [await landOn(lb.port), await landOn(lb.port), await landOn(lb.port), await landOn(lb.port)];
    expect(landed).toEqual([a!.port, c!.port, c!.port, a!.port]);
    expect(lb.stats().connections[b!.port]).toBeUndefined();

    await Promise.all([a!.close(), c!.close()]);
    const { socket } = await open(lb.port);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    expect(error.code).toBe('ECONNRESET');
    expect(lb.stats().rejected).toBe(1);
  });

  it('setBackends routes new connections only; a backend crash resets its clients; close() ends everything', async () => {
    const [a, b] = await Promise.all([backend(), backend()]);
    const lb = await balancer([a!.port]);
    const onA = await open(lb.port);
    expect(Number(await onA.line())).toBe(a!.port);

    lb.setBackends([b!.port]);
    expect(await landOn(lb.port)).toBe(b!.port);
    onA.socket.write('still\n');
    expect(await onA.line()).toBe('echo:still');
    expect(lb.stats().active[a!.port]).toBe(1);

    const onB = await open(lb.port);
    expect(Number(await onB.line())).toBe(b!.port);
    const bClosed = new Promise((resolve) => onB.socket.once('close', resolve));
    onB.socket.on('error', () => {});
    await b!.close(); // destroys its sockets: the balancer passes that on
    await bClosed;

    const aClosed = new Promise((resolve) => onA.socket.once('close', resolve));
    onA.socket.on('error', () => {});
    await Promise.all([lb.close(), lb.close()]);
    await aClosed;
    await expect(open(lb.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
