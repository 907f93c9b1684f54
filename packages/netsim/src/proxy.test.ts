import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, type NetsimProxy } from './proxy.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A TCP echo server on 127.0.0.1. */
async function echoServer() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s)).on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as net.AddressInfo).port;
}

async function proxyTo(port: number, random?: () => number): Promise<NetsimProxy> {
  const proxy = await startProxy({ target: { port }, random });
  cleanups.push(() => proxy.close());
  return proxy;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    cleanups.push(() => void s.destroy());
  });
}

/** Sends `total` bytes in chunks and resolves with everything echoed back. */
function roundTrip(socket: net.Socket, total: number): Promise<Buffer> {
  const sent = Buffer.alloc(total);
  for (let i = 0; i < total; i++) sent[i] = (i * 7 + (i >> 8)) & 0xff;
  const received: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      received.push(d);
      got += d.length;
      if (got >= total) {
        const all = Buffer.concat(received);
        all.equals(sent) ? resolve(all) : reject(new Error('echoed bytes differ'));
      }
    });
    for (let i = 0; i < total; i += 1000) socket.write(sent.subarray(i, i + 1000));
  });
}

describe('netsim proxy', () => {
  it('refuses to target anything but loopback', async () => {
    await expect(startProxy({ target: { port: 80, host: '10.0.0.1' } })).rejects.toThrow(/loopback/);
  });

  it('keeps every byte intact and in order under jitter, loss stalls and a bandwidth cap', async () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const proxy = await proxyTo(await echoServer(), random);
    proxy.set({ jitterMs: 5, lossRate: 0.05, stallMs: 5, bandwidthBytesPerSec: 2_000_000 });
    const socket = await connect(proxy.port);
    await roundTrip(socket, 200_000);
    expect(proxy.stats.bytesUp).toBe(200_000);
    expect(proxy.stats.bytesDown).toBe(200_000);
  });

  it('adds latency both ways: a round trip takes at least twice the one-way delay', async () => {
    const proxy = await proxyTo(await echoServer());
    proxy.set({ latencyMs: 60 });
    const socket = await connect(proxy.port);
    const t0 = performance.now();
    await roundTrip(socket, 10);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(120 - 1);
  });

  it('blackhole holds traffic on open connections and heal delivers it', async () => {
    const proxy = await proxyTo(await echoServer());
    const socket = await connect(proxy.port);
    await roundTrip(socket, 100);
    socket.removeAllListeners('data');
    proxy.set({ blackhole: true });
    let got = 0;
    socket.on('data', (d: Buffer) => (got += d.length));
    socket.write('held');
    // Prove nothing came back: a second connection's full round trip completes first.
    proxy.set({ blackhole: false });
    proxy.set({ blackhole: true });
    expect(got).toBe(0);
    proxy.heal();
    await new Promise<void>((resolve) => {
      const check = () => (got >= 4 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(got).toBe(4);
  });

  it('refuse closes new connections; cutAll ends open ones', async () => {
    const proxy = await proxyTo(await echoServer());
    const open = await connect(proxy.port);
    const closed = new Promise((r) => open.on('close', r));
    expect(proxy.cutAll()).toBe(1);
    await closed;
    proxy.set({ refuse: true });
    const refused = net.connect(proxy.port, '127.0.0.1');
    await new Promise((r) => refused.on('close', r).on('error', () => {}));
    expect(proxy.stats.refused).toBe(1);
  });

  it('resets connections at the configured rate', async () => {
    const proxy = await proxyTo(await echoServer(), () => 0);
    proxy.set({ resetRate: 1 });
    const socket = await connect(proxy.port);
    const ended = new Promise((r) => socket.on('close', r).on('error', () => {}));
    socket.write('x');
    await ended;
    expect(proxy.stats.resets).toBe(1);
  });
});

describe('netsim and WebSocket upgrades', () => {
  /** An HTTP server that reports whether requests arrived as upgrades, and accepts upgrades. */
  async function upgradeServer() {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`plain ${req.headers.upgrade ?? '-'}`);
      res.writeHead(426).end('upgrade required');
    });
    server.on('upgrade', (req, socket) => {
      seen.push(`upgrade ${req.headers.upgrade}`);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (d) => socket.write(d)); // echo after the upgrade
      socket.on('error', () => {});
      // Upgraded sockets are half-open capable: close ours when the peer ends, or close() waits forever.
      socket.on('end', () => socket.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    });
    return { port: (server.address() as net.AddressInfo).port, seen };
  }

  const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n\r\n';

  function request(port: number, text: string, until: (s: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(text));
      cleanups.push(() => void s.destroy());
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (until(got)) resolve(got);
      });
      s.on('error', reject);
    });
  }

  it("'strip' turns an upgrade into a plain GET, as a proxy without WebSocket support does", async () => {
    const { port, seen } = await upgradeServer();
    const proxy = await proxyTo(port);
    proxy.set({ upgrade: 'strip' });
    const answer = await request(proxy.port, UPGRADE, (s) => s.includes('upgrade required'));
    expect(answer).toMatch(/^HTTP\/1\.1 426/);
    expect(seen).toEqual(['plain -']);
    expect(proxy.stats.upgradesStripped).toBe(1);
  });

  it("blackhole 'websocket' holds upgraded connections only, plain HTTP still flows", async () => {
    const { port } = await upgradeServer();
    const proxy = await proxyTo(port);
    const s = net.connect(proxy.port, '127.0.0.1', () => s.write(UPGRADE));
    cleanups.push(() => void s.destroy());
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    await new Promise<void>((resolve) => {
      const check = () => (got.includes('\r\n\r\n') ? resolve() : setTimeout(check, 5));
      check();
    });
    const upgraded = got.length;
    proxy.set({ blackhole: 'websocket' });
    s.write('held while the path is dead');
    const plain = await request(proxy.port, 'GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', (t) => t.includes('upgrade required'));
    expect(plain).toMatch(/^HTTP\/1\.1 426/);
    expect(got.length).toBe(upgraded); // nothing came back on the WebSocket
    proxy.heal();
    await new Promise<void>((resolve) => {
      const check = () => (got.includes('held while the path is dead') ? resolve() : setTimeout(check, 5));
      check();
    });
  });

  it("'silent' lets the 101 through and then forwards nothing", async () => {
    const { port, seen } = await upgradeServer();
    const proxy = await proxyTo(port);
    proxy.set({ upgrade: 'silent' });
    const s = net.connect(proxy.port, '127.0.0.1', () => s.write(UPGRADE));
    cleanups.push(() => void s.destroy());
    let got = '';
    await new Promise<void>((resolve) =>
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('\r\n\r\n')) resolve();
      }),
    );
    expect(got).toMatch(/^HTTP\/1\.1 101/);
    s.write('echo me');
    // A plain connection through the same proxy still works, and completes after our write.
    proxy.set({ upgrade: 'pass' });
    const other = await request(proxy.port, UPGRADE, (t) => t.includes('\r\n\r\n'));
    expect(other).toMatch(/^HTTP\/1\.1 101/);
    expect(got).not.toContain('echo me');
    expect(seen).toEqual(['upgrade websocket', 'upgrade websocket']);
    expect(proxy.stats.upgradesSilenced).toBe(1);
  });
});
