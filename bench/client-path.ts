/**
 * The client's delivery path alone: EVENT frames handed straight to the `onmessage` of a stand-in
 * WebSocket, in one process, with no network. Prints the CPU per delivery (frame text built in the
 * loop included) for N clients subscribed to one channel, each frame going to the next client in
 * turn as a fan-out would. Set beside the fan-out scenario's client CPU per delivery, it says how
 * much of that is the client's own work (bench/README.md, "What the client's per-delivery cost is
 * made of").
 * Usage: npx tsx bench/client-path.ts [clients=500] [rounds=400]
 */
import { createClient, type WebSocketLike } from '@wirehop/client';

const clients = Number(process.argv[2] ?? 500);
const rounds = Number(process.argv[3] ?? 400);

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
await Promise.all(
  Array.from({ length: clients }, async () => {
    const client = createClient({ url: 'http://127.0.0.1:9', transports: ['websocket'], adaptive: false, WebSocket: StandIn });
    const channel = client.channel('bench');
    channel.on('b', () => void delivered++);
    await client.connect();
    await channel.subscribe();
  }),
);

const payload = 'x'.repeat(40);
const round = (r: number) => {
  for (const s of StandIn.all) s.server(`[10,${++s.seq},"bench","b","${r}|${payload}",${r + 1}]`);
};
for (let r = 0; r < 200; r++) round(r); // warm up: let the path be optimized first
delivered = 0;
const cpu0 = process.cpuUsage();
for (let r = 200; r < 200 + rounds; r++) {
  round(r);
  // Timers (acks) and microtasks get their turn, as between broadcasts.
  if (r % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
}
const cpu = process.cpuUsage(cpu0);
console.log(`${clients} clients, ${delivered} deliveries: ${((cpu.user + cpu.system) / delivered).toFixed(2)} µs CPU per delivery`);
process.exit(0);
