import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WirehopError } from '@wirehop/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fetchHttp } from './http.js';
import { multiplexed, tabSlots } from './tab-slots.js';

/** Browsers ask through fetch, which Resource Timing records (in Node too). */
const viaFetch = fetchHttp((input, init) => fetch(input, init), 'include');

const entry = (name: string, nextHopProtocol: string) => ({ name, nextHopProtocol });

describe('multiplexed', () => {
  const origin = 'https://api.example';
  it("reads the newest entry of the origin: h2 and h3 (any draft) yes, HTTP/1.x or unknown no", () => {
    expect(multiplexed([entry(`${origin}/wirehop/ping`, 'h2')], origin)).toBe(true);
    expect(multiplexed([entry(`${origin}/app.js`, 'h3')], origin)).toBe(true);
    expect(multiplexed([entry(`${origin}/x`, 'h3-29')], origin)).toBe(true);
    expect(multiplexed([entry(`${origin}/x`, 'http/1.1')], origin)).toBe(false);
    expect(multiplexed([entry(`${origin}/x`, 'h2'), entry(`${origin}/y`, 'http/1.1')], origin)).toBe(false);
    expect(multiplexed([entry(`${origin}/x`, 'http/1.1'), entry(`${origin}/y`, 'h2')], origin)).toBe(true);
    // Cross-origin without Timing-Allow-Origin the protocol reads as ''.
    expect(multiplexed([entry(`${origin}/x`, 'h2'), entry(`${origin}/y`, '')], origin)).toBe(false);
    expect(multiplexed([], origin)).toBe(false);
  });

  it('ignores other origins, including one whose name starts the same', () => {
    expect(multiplexed([entry('https://api.example.org/x', 'h2'), entry('https://api.example:8443/x', 'h2')], origin)).toBe(false);
    expect(multiplexed([entry(`${origin}/x`, 'h2'), entry('https://cdn.example/x', 'http/1.1')], origin)).toBe(true);
  });
});

/**
 * A stand-in for the browser's LockManager (Node 20 has none; test/browser/tabs.test.ts runs the
 * real one): exclusive locks, granted in request order, `ifAvailable` answered with null at once.
 */
function lockManager() {
  const held = new Set<string>();
  const queues = new Map<string, Array<() => void>>();
  const grant = (name: string, callback: LockGrantedCallback<unknown>) => {
    held.add(name);
    void Promise.resolve(callback({ name, mode: 'exclusive' } as Lock)).finally(() => {
      held.delete(name);
      queues.get(name)?.shift()?.();
    });
  };
  return {
    held,
    pending: () => [...queues.values()].reduce((sum, q) => sum + q.length, 0),
    request(name: string, options: LockOptions, callback: LockGrantedCallback<unknown>) {
      const queue = queues.get(name) ?? (queues.set(name, []).get(name) as Array<() => void>);
      if (!held.has(name) && queue.length === 0) grant(name, callback);
      else if (options.ifAvailable) void callback(null);
      else queue.push(() => grant(name, callback));
      return Promise.resolve();
    },
  };
}

let server: Server;
let pings = 0;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/wirehop/ping') pings++;
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wirehop`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** A browser page as far as tab-slots looks: Web Locks, and Resource Timing saying `protocol` for every request. */
function browserPage(protocol: () => string) {
  const locks = lockManager();
  vi.stubGlobal('document', {});
  vi.stubGlobal('navigator', { locks });
  // Node records its fetches in Resource Timing without nextHopProtocol: this page knows it.
  const real = performance.getEntriesByType.bind(performance);
  vi.spyOn(performance, 'getEntriesByType').mockImplementation((type) => real(type).map(({ name }) => ({ name, nextHopProtocol: protocol() }) as unknown as PerformanceEntry));
  performance.clearResourceTimings();
  return locks;
}

describe('tabSlots', () => {
  it('is off outside browser pages, and with 0 or Infinity slots', () => {
    expect(tabSlots(base, 4, viaFetch)).toBeUndefined(); // Node: no document, no Web Locks
    browserPage(() => 'http/1.1');
    expect(tabSlots(base, 0, viaFetch)).toBeUndefined();
    expect(tabSlots(base, Infinity, viaFetch)).toBeUndefined();
    expect(tabSlots(base, undefined, viaFetch)).toBeDefined();
  });

  it('hands out n slots; with none free says tab_limit, and waits for one unless told not to', async () => {
    const locks = browserPage(() => 'http/1.1');
    const [a, b, c, d] = [0, 1, 2, 3].map(() => tabSlots(base, 2, viaFetch)!);
    const busy = vi.fn(() => false);
    expect(await a!.take(busy)).toBe(true);
    expect(await a!.take(busy)).toBe(true); // already holds one
    expect(await b!.take(busy)).toBe(true);
    const origin = new URL(base).origin;
    expect([...locks.held].sort()).toEqual([`wirehop:sse:${origin}:0`, `wirehop:sse:${origin}:1`]);
    expect(busy).not.toHaveBeenCalled();

    // c is told and gives up; d is told and waits.
    expect(await c!.take(busy)).toBe(false);
    const errors: WirehopError[] = [];
    const waiting = d!.take((error) => errors.push(error) > 0);
    await vi.waitFor(() => expect(locks.pending()).toBe(2));
    expect(busy).toHaveBeenCalledTimes(1);
    expect(errors.map((e) => e.code)).toEqual(['tab_limit']);
    expect(errors[0]!.message).toContain(`${origin}: too many tabs hold SSE streams over HTTP/1.1`);

    a!.free();
    expect(await waiting).toBe(true);
    expect(locks.held.size).toBe(2);
    // d's other request passes its slot on when its turn comes: b's slot goes back to the pool.
    b!.free();
    await vi.waitFor(() => expect(locks.held.size).toBe(1));
    expect(await c!.take(busy)).toBe(true);
  });

  it('a client freed while waiting never takes the slot', async () => {
    const locks = browserPage(() => 'http/1.1');
    const [a, b] = [0, 1].map(() => tabSlots(base, 1, viaFetch)!);
    await a!.take(() => false);
    const waiting = b!.take(() => true);
    await vi.waitFor(() => expect(locks.pending()).toBe(1));
    b!.free();
    a!.free();
    expect(await waiting).toBe(false); // its turn came after all: given back at once
    expect(locks.held.size).toBe(0);
  });

  it('takes no slot over HTTP/2 or HTTP/3; pings to find out only when it would have to wait', async () => {
    let protocol = '';
    const locks = browserPage(() => protocol);
    const [a, b, c] = [0, 1, 2].map(() => tabSlots(base, 1, viaFetch)!);
    const busy = vi.fn(() => false);
    pings = 0;
    expect(await a!.take(busy)).toBe(true); // nothing tells yet, a slot is free: no ping
    expect(pings).toBe(0);
    expect(locks.held.size).toBe(1);
    protocol = 'h2';
    expect(await b!.take(busy)).toBe(true); // none free: the ping's answer came over h2
    expect(pings).toBe(1);
    expect(busy).not.toHaveBeenCalled();
    expect(await c!.take(busy)).toBe(true); // the entries say h2 already
    expect(pings).toBe(1);
    expect(locks.held.size).toBe(1);
  });

  it('a ping that never answers still ends: then, over HTTP/1.1 as far as it knows, it reports tab_limit', async () => {
    browserPage(() => 'http/1.1');
    const hanging = ((_url: unknown, init?: RequestInit) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))) as typeof fetch;
    const [a, b] = [0, 1].map(() => tabSlots(base, 1, fetchHttp(hanging, 'include'))!);
    await a!.take(() => false);
    const busy = vi.fn(() => false);
    expect(await b!.take(busy)).toBe(false);
    expect(busy).toHaveBeenCalledWith(expect.objectContaining({ code: 'tab_limit' }));
    a!.free();
  });
});
