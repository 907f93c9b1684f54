/**
 * The client without a server: construction, the offline outbox, and close(). Everything that
 * needs a server (connect, resume, gaps, fallback) is covered by the e2e suites in test/.
 */
import { WirehopError } from '@wirehop/protocol';
import { describe, expect, it } from 'vitest';
import { createClient } from './client.js';

const url = 'http://127.0.0.1:9/wirehop';

describe('createClient', () => {
  it('refuses URLs and transports it cannot use, saying why', () => {
    expect(() => createClient({ url: 'ftp://example.com/x' })).toThrow(/http\(s\)/);
    expect(() => createClient({ url: 'not a url' })).toThrow();
    expect(() => createClient({ url, transports: [] })).toThrow(/transports/);
    expect(() => createClient({ url, transports: ['carrier-pigeon' as 'sse'] })).toThrow(/transports/);
  });

  it('starts idle, without a session or transport', () => {
    const c = createClient({ url, autoConnect: false });
    expect(c.state).toBe('idle');
    expect(c.transport).toBeNull();
    expect(c.sessionId).toBeNull();
    expect(c.stats).toEqual({ rtt: null, loss: 0, jitter: null, queued: 0, reconnects: 0, switches: 0, transport: null });
    c.close();
  });

  it('returns the same channel object per name, and refuses invalid names', () => {
    const c = createClient({ url, autoConnect: false });
    expect(c.channel('room:1')).toBe(c.channel('room:1'));
    expect(c.channel('room:1').name).toBe('room:1');
    expect(() => c.channel('')).toThrow(WirehopError);
    expect(() => c.channel('a\u0000b')).toThrow(/channel name/);
    c.close();
  });
});

describe('HTTP requests', () => {
  /** A fetch that records what it was asked and answers nothing useful: the attempt fails, which is fine here. */
  function recordingFetch() {
    const seen: Array<{ url: string; credentials: RequestCredentials | undefined }> = [];
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push({ url: String(input), credentials: init?.credentials });
      return new Response(null, { status: 503 });
    }) as typeof fetch;
    return { seen, fetchFn };
  }

  it.each([
    [undefined, 'include'],
    ['same-origin', 'same-origin'],
    ['omit', 'omit'],
  ] as const)('credentials option %s → every request uses %s', async (option, expected) => {
    const { seen, fetchFn } = recordingFetch();
    const c = createClient({ url, transports: ['sse'], fetch: fetchFn, credentials: option, adaptive: false });
    await new Promise<void>((resolve) => {
      const check = () => (seen.some((r) => r.url.endsWith('/session')) ? resolve() : setTimeout(check, 1));
      check();
    });
    c.close();
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((r) => r.credentials))).toEqual(new Set([expected]));
  });
});

describe('offline outbox', () => {
  it('queues while not connected, refuses what cannot be sent, and counts the queue', async () => {
    const c = createClient({ url, autoConnect: false, maxQueue: 2, maxMessageBytes: 64 });
    const a = c.send('n', 1).catch((e: WirehopError) => e.code);
    await expect(c.send('n', 'x'.repeat(100))).rejects.toMatchObject({ code: 'message_too_large' });
    await expect(c.send('', 1)).rejects.toMatchObject({ code: 'bad_frame' });
    await expect(c.request('m\n', 1)).rejects.toMatchObject({ code: 'bad_frame' });
    await expect(c.send('n', 10n as unknown as number)).rejects.toMatchObject({ code: 'bad_frame' });
    const b = c.request('m', 2).catch((e: WirehopError) => e.code);
    await expect(c.send('n', 3)).rejects.toMatchObject({ code: 'queue_full' });
    expect(c.stats.queued).toBe(2);
    c.close();
    expect(await a).toBe('client_closed');
    expect(await b).toBe('client_closed');
    expect(c.stats.queued).toBe(0);
  });
});

describe('close', () => {
  it('is final: state closed once, pending and later calls reject with client_closed', async () => {
    const c = createClient({ url, autoConnect: false });
    const states: unknown[] = [];
    c.on('state', (e) => states.push(e));
    const subscribing = c.channel('news').subscribe().catch((e: WirehopError) => e.code);
    c.close();
    c.close();
    expect(c.state).toBe('closed');
    expect(states).toEqual([{ from: 'idle', to: 'closed', reason: 'client_closed' }]);
    expect(await subscribing).toBe('client_closed');
    await expect(c.connect()).rejects.toMatchObject({ code: 'client_closed' });
    await expect(c.channel('news').publish('e', 1)).rejects.toMatchObject({ code: 'client_closed' });
    await expect(c.request('m')).rejects.toMatchObject({ code: 'client_closed' });
  });

  it('rejects a pending connect()', async () => {
    // Port 9 on loopback refuses connections: the client keeps retrying until closed.
    const c = createClient({ url, autoConnect: false, transports: ['sse'] });
    const connecting = c.connect();
    expect(c.state).toBe('connecting');
    c.close();
    await expect(connecting).rejects.toMatchObject({ code: 'client_closed' });
  });

  it('reports a throwing listener as an error event instead of throwing', () => {
    const c = createClient({ url, autoConnect: false });
    const errors: WirehopError[] = [];
    c.on('error', (e) => errors.push(e));
    c.on('state', () => {
      throw new Error('listener bug');
    });
    expect(() => c.close()).not.toThrow();
    expect(errors[0]?.code).toBe('handler_error');
    expect(errors[0]?.message).toContain('listener bug');
  });
});
