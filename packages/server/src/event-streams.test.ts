import { describe, expect, it } from 'vitest';
import { eventTail } from './channel-feed.js';
import { splitEventTail } from './event-streams.js';
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
