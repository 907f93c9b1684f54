import { describe, expect, it } from 'vitest';
import { eventTail } from './channel-feed.js';
import { EventStreams, splitEventTail } from './event-streams.js';
import type { Hub, Subscriber } from './hub.js';
import { resolveOptions } from './options.js';
import { formatStreamId, parseStreamId } from './transports/eventsource.js';

describe('EventSource stream ids', () => {
  it('round-trips positions, any epoch included', () => {
    for (const p of [
      { epoch: 'V1StGXR8', offset: 0 },
      { epoch: 'a-b_c', offset: 123_456_789_012_345 },
      { epoch: '', offset: 7 },
      { epoch: 'with @ and : and / and é and \n', offset: 3 },
    ]) {
      const id = formatStreamId(p);
      expect(id).not.toMatch(/[\r\n\0\s]/);
      expect(parseStreamId(id)).toEqual(p);
    }
    expect(formatStreamId({ epoch: 'abc', offset: 42 })).toBe('42@abc');
  });

  it('refuses what the stream never sends', () => {
    for (const bad of ['', '42', '@abc', '-1@abc', '1.5@abc', 'x@abc', '1@a b', '1234567890123456@e', `1@${'e'.repeat(65)}`, '1@%E0%A4%A'])
      expect(parseStreamId(bad), bad).toBeUndefined();
  });
});

describe('splitEventTail', () => {
  it('finds the data and offset of any publication without parsing the data', () => {
    const cases: Array<[string, string, unknown]> = [
      ['room:1', 'message', { text: 'hi' }],
      ['a,"b"', 'ev"ent,', { text: '","x",1]', n: [1, 2, 3] }],
      ['c\\', '\\', 'str,ing'],
      ['ch', 'e', null],
      ['ch', 'e', 12.5],
    ];
    for (const [channel, event, data] of cases) {
      const payload = JSON.stringify([event, data]);
      const tail = eventTail(JSON.stringify(channel), payload, 77);
      expect(splitEventTail(JSON.stringify(channel), tail)).toEqual({ data: JSON.stringify(data), offset: 77 });
    }
  });
});

describe('EventStreams.open refusals', () => {
  /** The route's logic against a stand-in server: closing or not, with a hub whose subscribe may fail. */
  function streams(closing: boolean, subscribe: () => Promise<never>) {
    const unsubscribed: string[] = [];
    const host = {
      options: resolveOptions({}),
      closing,
      hub: { subscribe, unsubscribe: (_s: unknown, channel: string) => void unsubscribed.push(channel) } as unknown as Hub<Subscriber>,
      rule: () => ({ eventSource: true }),
      onError: () => undefined,
    };
    const request = { query: new URLSearchParams('channel=feed'), headers: new Headers(), ip: '127.0.0.1', response: undefined as never, http2: false, cors: {}, gone: () => false };
    return { open: () => new EventStreams(host).open(request), unsubscribed };
  }

  it('a passing condition asks the reader to come back later (jittered), a refusal proper does not', async () => {
    const closing = await streams(true, () => Promise.reject(new Error('unused'))).open();
    expect(closing).toMatchObject({ code: 'server_closing', status: 503 });
    expect(closing!.retryMs).toBeGreaterThanOrEqual(1000);
    expect(closing!.retryMs).toBeLessThanOrEqual(1500);

    const broken = streams(false, () => Promise.reject(new Error('redis down')));
    const down = await broken.open();
    expect(down).toMatchObject({ code: 'broker_unavailable', status: 503 });
    expect(down!.retryMs).toBeGreaterThanOrEqual(2000);
    expect(down!.retryMs).toBeLessThanOrEqual(3000);
    expect(broken.unsubscribed).toEqual(['feed']);
  });
});
