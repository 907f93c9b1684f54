/**
 * The client's delivery path alone: EVENT frames handed straight to the `onmessage` of a stand-in
 * WebSocket, in one process, with no network. Prints the CPU per delivery (frame text built in the
 * loop included) for N clients subscribed to one channel, each frame going to the next client in
 * turn as a fan-out would. Set beside the fan-out scenario's client CPU per delivery, it says how
 * much of that is the client's own work (bench/README.md, "What the client's per-delivery cost is
 * made of"). With `sweep`, that many KiB of other memory are read before each delivery, as a
 * process full of sockets does between two deliveries to one client, and the sweep's own cost,
 * measured alone first, is taken off. `bare` puts a bare socket's path in the client's place:
 * `JSON.parse` and a listener.
 * Usage: npx tsx bench/client-path.ts [clients=500] [rounds=400] [sweep KiB=0] [bare]
 */
import { createClient, type WebSocketLike } from '@wirehop/client';

const clients = Number(process.argv[2] ?? 500);
const rounds = Number(process.argv[3] ?? 400);
const sweepKiB = Number(process.argv[4] ?? 0);
const bare = process.argv[5] === 'bare';

const WELCOME = JSON.stringify([25, { v: 1, sid: 's', token: 't', resumed: false, ack: 0, heartbeatMs: 15_000, heartbeatTimeoutMs: 10_000, sessionTtlMs: 30_000, maxMessageBytes: 65_536, batch: 1024 }]);

/** Answers HELLO with WELCOME and SUBSCRIBE with its reply, as a server would; counts what the server sends since. */
class StandIn implements WebSocketLike {
  static all: StandIn[] = [];
  readyState = 0;
  seq = 0;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {
    StandIn.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.();
    }, 0);
  }
  send(text: string): void {
    for (const line of text.split('\n')) {
      const frame = JSON.parse(line) as [number, ...unknown[]];
      if (frame[0] === 24) queueMicrotask(() => this.server(WELCOME));
      if (frame[0] === 1) queueMicrotask(() => this.server(`[12,${++this.seq},${frame[1]},{"presence":false,"position":{"epoch":"e","offset":0}}]`));
    }
  }
  server(data: string): void {
    this.onmessage?.({ data });
  }
  close(): void {
    this.readyState = 3;
  }
}

let delivered = 0;
/** A wirehop client subscribed to `bench`, or with `bare`, a socket whose listener parses the frame. */
async function open(): Promise<void> {
  if (bare) {
    const socket = new StandIn('bare');
    socket.onmessage = ({ data }) => void (JSON.parse(data as string)[0] === 10 && delivered++);
    return;
  }
  const client = createClient({ url: 'http://127.0.0.1:9', transports: ['websocket'], adaptive: false, WebSocket: StandIn });
  const channel = client.channel('bench');
  channel.on('b', () => void delivered++);
  await client.connect();
  await channel.subscribe();
}
await Promise.all(Array.from({ length: clients }, open));

const other = new Float64Array((sweepKiB * 1024) / 8);
let sum = 0;
/** Reads one number per 64-byte cache line of `other`. */
const sweep = () => {
  for (let i = 0; i < other.length; i += 8) sum += other[i]!;
};
const payload = 'x'.repeat(40);
const round = (r: number) => {
  for (const s of StandIn.all) {
    if (sweepKiB) sweep();
    s.server(`[10,${++s.seq},"bench","b","${r}|${payload}",${r + 1}]`);
  }
};
const cpuOf = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};
for (let r = 0; r < 200; r++) round(r); // warm up: let the path be optimized first
let since = process.cpuUsage();
for (let i = 0; i < rounds * StandIn.all.length; i++) sweep();
const sweeps = sweepKiB ? cpuOf(since) : 0;
delivered = 0;
since = process.cpuUsage();
for (let r = 200; r < 200 + rounds; r++) {
  round(r);
  // Timers (acks) and microtasks get their turn, as between broadcasts.
  if (r % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
}
const per = (cpuOf(since) - sweeps) / delivered;
console.log(`${clients} ${bare ? 'bare sockets' : 'clients'}, ${delivered} deliveries, ${sweepKiB} KiB read before each: ${per.toFixed(2)} µs CPU per delivery${sum ? '' : ''}`);
process.exit(0);
