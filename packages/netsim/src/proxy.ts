/**
 * A TCP proxy on loopback that applies an {@link Impairment} to every connection through it,
 * changeable at runtime so a test can degrade a link mid-session and heal it again.
 */
import net from 'node:net';
import { headEnd, isSwitchingProtocols, isUpgradeRequest, MAX_HEAD, stripUpgrade } from './http-sniff.js';
import { NO_IMPAIRMENT, schedule, validateImpairment, type Impairment, type LinkState } from './impairment.js';

export interface ProxyOptions {
  /** Where traffic goes. Only loopback targets are allowed: this is a test tool. */
  target: { port: number; host?: string };
  /** Where the proxy listens; default 127.0.0.1, port 0 (ephemeral). */
  listen?: { port?: number; host?: string };
  impairment?: Partial<Impairment>;
  /** Source of randomness for jitter, loss and resets; inject a seeded one for repeatable runs. */
  random?: () => number;
}

export interface ProxyStats {
  accepted: number;
  refused: number;
  resets: number;
  cuts: number;
  upgradesStripped: number;
  upgradesSilenced: number;
  bytesUp: number;
  bytesDown: number;
}

export interface NetsimProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly connections: number;
  readonly impairment: Readonly<Impairment>;
  readonly stats: Readonly<ProxyStats>;
  /** Changes the impairment for open and new connections alike. */
  set(partial: Partial<Impairment>): void;
  /** Back to a perfect link. */
  heal(): void;
  /** Destroys every open connection, both sides. Returns how many. */
  cutAll(): number;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

export async function startProxy(options: ProxyOptions): Promise<NetsimProxy> {
  const host = options.target.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) throw new Error(`netsim only proxies to loopback addresses, not ${host}`);
  const random = options.random ?? Math.random;
  let imp: Impairment = { ...NO_IMPAIRMENT };
  const stats: ProxyStats = { accepted: 0, refused: 0, resets: 0, cuts: 0, upgradesStripped: 0, upgradesSilenced: 0, bytesUp: 0, bytesDown: 0 };
  const open = new Set<Connection>();

  const set = (partial: Partial<Impairment>) => {
    validateImpairment(partial);
    const wasBlackhole = imp.blackhole;
    imp = { ...imp, ...partial };
    if (imp.blackhole !== wasBlackhole) for (const c of open) c.applyBlackhole();
  };
  if (options.impairment) set(options.impairment);

  const server = net.createServer((client) => {
    if (imp.refuse) {
      stats.refused++;
      return void client.destroy();
    }
    stats.accepted++;
    const connection = new Connection(client, net.connect(options.target.port, host), {
      impairment: () => imp,
      random,
      stats,
      onEnd: () => open.delete(connection),
    });
    open.add(connection);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return open.size;
    },
    get impairment() {
      return imp;
    },
    stats,
    set,
    heal: () => set({ ...NO_IMPAIRMENT }),
    cutAll() {
      const n = open.size;
      for (const c of [...open]) c.destroy();
      stats.cuts += n;
      return n;
    },
    async close() {
      for (const c of [...open]) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Env {
  impairment(): Impairment;
  random(): number;
  stats: ProxyStats;
  onEnd(): void;
}

/** One proxied TCP connection: two directions, each with its own scheduling queue. */
class Connection {
  private readonly up: Direction;
  private readonly down: Direction;
  private sniffing: Buffer | null = Buffer.alloc(0);
  private silenceAfterUpgrade = false;
  private ended = false;

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    private readonly env: Env,
  ) {
    this.up = new Direction(client, upstream, env, (n) => (env.stats.bytesUp += n));
    this.down = new Direction(upstream, client, env, (n) => (env.stats.bytesDown += n));
    const end = () => this.destroy();
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    upstream.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    this.applyBlackhole();
  }

  /** True once the server accepted a WebSocket upgrade on this connection. */
  private websocket = false;
  private firstResponse = true;

  private fromClient(chunk: Buffer): void {
    if (this.maybeReset()) return;
    if (this.sniffing === null) return this.up.push(chunk);
    const buffered = Buffer.concat([this.sniffing, chunk]);
    // Only an HTTP request needs inspecting, and only when upgrades are being tampered with.
    if (this.env.impairment().upgrade === 'pass' || !/^[A-Z]+ /.test(buffered.subarray(0, 8).toString('latin1'))) {
      this.sniffing = null;
      return this.up.push(buffered);
    }
    // Hold the start of the connection until the request head is complete, to inspect it.
    const end = headEnd(buffered);
    if (end < 0 && buffered.length < MAX_HEAD) {
      this.sniffing = buffered;
      return;
    }
    this.sniffing = null;
    if (end < 0) return this.up.push(buffered);
    const head = buffered.subarray(0, end).toString('latin1');
    const rest = buffered.subarray(end);
    const mode = this.env.impairment().upgrade;
    if (isUpgradeRequest(head) && mode === 'strip') {
      this.env.stats.upgradesStripped++;
      this.up.push(Buffer.concat([Buffer.from(stripUpgrade(head), 'latin1'), rest]));
      return;
    }
    if (isUpgradeRequest(head) && mode === 'silent') this.silenceAfterUpgrade = true;
    this.up.push(buffered);
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.maybeReset()) return;
    if (this.firstResponse) {
      this.firstResponse = false;
      if (isSwitchingProtocols(chunk)) {
        this.websocket = true;
        if (this.env.impairment().blackhole === 'websocket') {
          // The 101 gets through, so the client believes it is connected; then the path goes dead.
          this.down.push(chunk);
          this.applyBlackhole();
          return;
        }
      }
    }
    if (this.silenceAfterUpgrade && isSwitchingProtocols(chunk)) {
      // Let the 101 through so the client believes it is connected, then forward nothing more.
      this.env.stats.upgradesSilenced++;
      const end = headEnd(chunk);
      this.down.push(end > 0 ? chunk.subarray(0, end) : chunk);
      this.up.mute();
      this.down.mute();
      return;
    }
    this.down.push(chunk);
  }

  private maybeReset(): boolean {
    const rate = this.env.impairment().resetRate;
    if (rate > 0 && this.env.random() < rate) {
      this.env.stats.resets++;
      this.client.resetAndDestroy();
      this.upstream.resetAndDestroy();
      this.destroy();
      return true;
    }
    return false;
  }

  /** Holds or releases this connection according to the current `blackhole` setting. */
  applyBlackhole(): void {
    const mode = this.env.impairment().blackhole;
    const on = mode === true || (mode === 'websocket' && this.websocket);
    this.up.hold(on);
    this.down.hold(on);
  }

  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    this.up.stop();
    this.down.stop();
    this.client.destroy();
    this.upstream.destroy();
    this.env.onEnd();
  }
}

/**
 * One direction of a connection. Chunks leave in arrival order at their scheduled times; when the
 * destination cannot keep up, the source is paused (TCP backpressure through the proxy).
 */
class Direction {
  private readonly queue: Array<{ at: number; chunk: Buffer }> = [];
  private readonly link: LinkState = { lastAt: 0, freeAt: 0 };
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private muted = false;
  private stopped = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly env: Env,
    private readonly count: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.muted || this.stopped) return;
    const at = schedule(this.link, Date.now(), chunk.length, this.env.impairment(), this.env.random);
    this.queue.push({ at, chunk });
    this.pump();
  }

  /** Blackhole: stop reading and forwarding; what was read waits, as data does on a dead path. */
  hold(on: boolean): void {
    if (on === this.held) return;
    this.held = on;
    if (on) {
      this.src.pause();
      clearTimeout(this.timer);
      this.timer = undefined;
    } else {
      this.src.resume();
      this.pump();
    }
  }

  mute(): void {
    this.muted = true;
    this.queue.length = 0;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private pump(): void {
    if (this.timer || this.held || this.stopped) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { chunk } = this.queue.shift()!;
      this.count(chunk.length);
      if (!this.dst.write(chunk) && !this.src.isPaused()) {
        this.src.pause();
        this.dst.once('drain', () => !this.held && this.src.resume());
      }
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, this.queue[0]!.at - now);
    }
  }
}
