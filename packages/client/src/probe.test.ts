import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchHttp } from './http.js';
import { probe } from './probe.js';

/** The probe as a browser runs it: through fetch. */
const via = (fetchFn: typeof fetch) => fetchHttp(fetchFn, 'include');

describe('probe', () => {
  afterEach(() => void vi.useRealTimers());

  it('times sequential GETs, without caching, and reports answers and failures', async () => {
    const calls: Array<[string, RequestInit | undefined]> = [];
    let n = 0;
    const fetchFn = (async (url: string, init?: RequestInit) => {
      calls.push([url, init]);
      if (++n === 2) throw new TypeError('network down');
      return new Response(null, { status: n === 3 ? 404 : 204 });
    }) as typeof fetch;
    const samples: Array<number | null> = [];
    await probe(via(fetchFn), 'http://x/wirehop/ping', { a: 'b' }, 3, 1000, (at, rtt) => {
      expect(typeof at).toBe('number');
      samples.push(rtt);
      return true;
    });
    expect(samples.map((s) => (s === null ? null : typeof s))).toEqual(['number', null, 'number']);
    expect(calls).toHaveLength(3);
    expect(calls[0]![0]).toBe('http://x/wirehop/ping');
    expect(calls[0]![1]).toMatchObject({ cache: 'no-store', headers: { a: 'b' }, redirect: 'error', window: null });
  });

  it('abandons a request after timeoutMs: a loss', async () => {
    vi.useFakeTimers();
    const fetchFn = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) => init!.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))) as typeof fetch;
    const samples: Array<number | null> = [];
    const done = probe(via(fetchFn), 'http://x/ping', {}, 2, 1000, (_at, rtt) => (samples.push(rtt), true));
    await vi.advanceTimersByTimeAsync(1000);
    expect(samples).toEqual([null]);
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    expect(samples).toEqual([null, null]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops when told to', async () => {
    let calls = 0;
    const fetchFn = (async () => (calls++, new Response(null, { status: 204 }))) as typeof fetch;
    await probe(via(fetchFn), 'http://x/ping', {}, 5, 1000, () => false);
    expect(calls).toBe(1);
  });
});
