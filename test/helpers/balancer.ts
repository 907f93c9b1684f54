/**
 * A round-robin TCP load balancer in front of several wirehop nodes, like a cloud L4 balancer with
 * no session affinity: each new client connection goes to the next backend, and then every byte of
 * it goes there. So one HTTP/1.1 keep-alive connection or one WebSocket stays on one node for its
 * lifetime, while consecutive connections (a reconnect, a POST on a fresh connection beside an
 * event stream) land on different nodes: exactly what multi-node tests must survive.
 *
 * A backend that refuses the connection (its node is down) is skipped for the next one; when all
 * refuse, the client's connection is reset, as a balancer with no healthy target would.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface BalancerStats {
  /** Connections forwarded to each backend port since the start (failed attempts not counted). */
  connections: Record<number, number>;
  /** Connections currently open to each backend port. */
  active: Record<number, number>;
  /** Client connections reset because every backend refused. */
  rejected: number;
}

export interface Balancer {
  /** The balancer's own port on 127.0.0.1. */
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /**
   * Replaces the backend list for new connections (open ones stay where they are) and restarts the
   * rotation at the first of `ports`.
   */
  setBackends(ports: number[]): void;
  /** A snapshot of the counters; see {@link BalancerStats}. */
  stats(): BalancerStats;
  /** Stops listening and destroys every open client and backend socket. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the balancer on 127.0.0.1, port 0, in front of `backends` (ports on 127.0.0.1).
 * @example
 * const lb = await startBalancer([a.port, b.port, c.port]);
 * afterAll(() => lb.close());
 */
export async function startBalancer(backends: number[]): Promise<Balancer> {
  let ports = [...backends];
  let next = 0;
  const connections: Record<number, number> = {};
  const active: Record<number, number> = {};
  let rejected = 0;
  const sockets = new Set<Socket>();
  const own = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  /** Connects to the first backend, from position `start` on, that accepts; undefined if none does. */
  const connectBackend = async (start: number): Promise<{ socket: Socket; port: number } | undefined> => {
    const list = ports;
    for (let i = 0; i < list.length; i++) {
      const port = list[(start + i) % list.length]!;
      const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
      own(socket);
      const error = await new Promise<Error | undefined>((resolve) => {
        socket.once('connect', () => resolve(undefined));
        socket.once('error', resolve);
        // Destroyed while connecting (close()): settle, so that the client is dropped too.
        socket.once('close', () => resolve(new Error('balancer closed')));
      });
      if (!error) return { socket, port };
      socket.destroy();
      // Only a refusal means "this node is down, try another"; anything else is not a routing matter.
      if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') return undefined;
    }
    return undefined;
  };

  // noDelay on both sides, as real L4 balancers do: Nagle's algorithm would hold small frames back.
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => {
    own(client);
    // An error before the backend is chosen (the client gave up) must not crash the test process.
    client.on('error', () => {});
    const start = next;
    next = ports.length === 0 ? 0 : (next + 1) % ports.length;
    void connectBackend(start).then((chosen) => {
      if (!chosen) {
        rejected++;
        client.resetAndDestroy();
        return;
      }
      const { socket: backend, port } = chosen;
      if (client.destroyed) {
        backend.destroy();
        return;
      }
      connections[port] = (connections[port] ?? 0) + 1;
      active[port] = (active[port] ?? 0) + 1;
      backend.once('close', () => (active[port] = (active[port] ?? 1) - 1));
      // A reset on one side is passed on as a reset, so a crashed node looks crashed to the client.
      backend.on('error', () => client.resetAndDestroy());
      client.on('error', () => backend.resetAndDestroy());
      // With allowHalfOpen, pipe() forwards each side's FIN as end(), so half-closes pass through.
      client.once('close', () => backend.destroy());
      backend.once('close', () => {
        if (!client.writableEnded) client.destroy();
      });
      backend.pipe(client);
      client.pipe(backend);
      client.resume();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setBackends(list) {
      ports = [...list];
      next = 0;
    },
    stats: () => ({ connections: { ...connections }, active: { ...active }, rejected }),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
