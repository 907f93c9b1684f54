import { describe, expect, it } from 'vitest';
import { createSseParser, type SseParserOptions } from './sse-parser.js';

type Trace = Array<['event', string, string, string | undefined] | ['comment', string] | ['retry', number] | ['overflow', number]>;

function recorder(extra: Partial<SseParserOptions> = {}) {
  const trace: Trace = [];
  const parser = createSseParser({
    onEvent: ({ data, event, id }) => void trace.push(['event', data, event, id]),
    onComment: (text) => void trace.push(['comment', text]),
    onRetry: (ms) => void trace.push(['retry', ms]),
    onOverflow: (n) => void trace.push(['overflow', n]),
    ...extra,
  });
  return { trace, parser };
}

function parse(chunks: string[]): Trace {
  const { trace, parser } = recorder();
  for (const chunk of chunks) parser.feed(chunk);
  return trace;
}

const ev = (data: string, event = 'message', id?: string): Trace[number] => ['event', data, event, id];

/** Streams and what a conforming reader makes of them, per the spec's parsing rules. */
const FIXTURES: Array<[name: string, stream: string, expected: Trace]> = [
  ['one event', 'data: hello\n\n', [ev('hello')]],
  ['LF, CRLF and CR line endings, mixed', 'data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\n', [ev('a'), ev('b'), ev('c'), ev('d')]],
  ['multi-line data joined with LF', 'data: one\ndata: two\r\ndata: three\r\n\n', [ev('one\ntwo\nthree')]],
  ['a CR then LF is one line break, not an empty line', 'data: a\r\ndata: b\r\n\r\n', [ev('a\nb')]],
  ['no space after the colon', 'data:x\nevent:e\nid:7\n\n', [ev('x', 'e', '7')]],
  ['only one leading space is removed', 'data:  two spaces\ndata:\ttab\n\n', [ev(' two spaces\n\ttab')]],
  ['a colon inside the value stays', 'data: a:b: c\n\n', [ev('a:b: c')]],
  ['a field without colon has an empty value', 'data\ndata\n\ndata\n\n', [ev('\n'), ev('')]],
  ['an empty data field still dispatches', 'data:\n\n', [ev('')]],
  ['event type, reset after each event', 'event: greet\ndata: hi\n\ndata: plain\n\n', [ev('hi', 'greet'), ev('plain')]],
  ['an event without data is not dispatched, and forgets its type', 'event: lonely\n\ndata: x\n\n', [ev('x')]],
  ['id persists across events', 'id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n', [ev('a', 'message', '1'), ev('b', 'message', '1'), ev('c', 'message', '2')]],
  ['an empty id field clears it', 'id: 1\ndata: a\n\nid\ndata: b\n\n', [ev('a', 'message', '1'), ev('b', 'message', '')]],
  ['an id containing NUL is ignored', 'id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n', [ev('a', 'message', '1'), ev('b', 'message', '1')]],
  ['id without an event still counts for the next one', 'id: 5\n\ndata: x\n\n', [ev('x', 'message', '5')]],
  ['comments, with and without space', ': hb\n:\n:x\n\n', [['comment', 'hb'], ['comment', ''], ['comment', 'x']]],
  ['comments inside an event', 'data: a\n: hb\ndata: b\n\n', [['comment', 'hb'], ev('a\nb')]],
  ['retry: digits only', 'retry: 1000\nretry: 10a\nretry: -5\nretry:\nretry: 1.5\nretry:250\n\n', [['retry', 1000], ['retry', 250]]],
  ['unknown fields are ignored', 'foo: bar\ndata : spaced name\nDATA: upper\ndata: kept\n\n', [ev('kept')]],
  ['blank lines between events dispatch nothing more', '\n\n\ndata: a\n\n\n\ndata: b\n\n\n', [ev('a'), ev('b')]],
  ['one leading BOM is ignored', '\ufeffdata: a\n\n', [ev('a')]],
  ['only one: a second BOM is part of the field name', '\ufeff\ufeffdata: a\n\ndata: b\n\n', [ev('b')]],
  ['a BOM later is data', 'data: \ufeffa\n\n', [ev('\ufeffa')]],
  ['an unfinished event at the end is not dispatched', 'data: a\n\ndata: b\n', [ev('a')]],
  ['an unfinished line at the end is not a field', 'data: a\n\nretry: 5', [ev('a')]],
  [
    'wirehop frames as the server writes them',
    'retry: 1000\n\nid: 0\nevent: welcome\ndata: [25,{"v":1}]\n\n: hb\n\nid: 1\nevent: event\ndata: [10,1,"c","e","😀"]\n\n',
    [['retry', 1000], ev('[25,{"v":1}]', 'welcome', '0'), ['comment', 'hb'], ev('[10,1,"c","e","😀"]', 'event', '1')],
  ],
  ['unknown fields and a comment among data lines', 'data:abc\n data\ndata\nfoobar:xxx\njustsometext\n:comment\ndata:123\n\n', [['comment', 'comment'], ev('abc\n\n123')]],
  ['an empty event field means message', 'event:\ndata: a\n\nevent:\n\n', [ev('a')]],
  [
    'odd comments: NUL, CR-ended, long, fields inside them',
    `data:1\r\r:\0\n:\r\ndata:2\n\n:${'x'.repeat(2049)}\rdata:3\n\n:data:fail\r:${'x'.repeat(2049)}\ndata:4\n\ndata:5`,
    [ev('1'), ['comment', '\0'], ['comment', ''], ev('2'), ['comment', 'x'.repeat(2049)], ev('3'), ['comment', 'data:fail'], ['comment', 'x'.repeat(2049)], ev('4')],
  ],
  ['non-ASCII and long values', `data: ${'é日😀'.repeat(500)}\r\n\r\n`, [ev('é日😀'.repeat(500))]],
];

describe('SSE parser (spec fixtures)', () => {
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const randomChunks = (t: string) => {
    const chunks: string[] = [];
    for (let i = 0; i < t.length; ) {
      const n = Math.floor(rand() * 12); // 0: empty chunks happen too
      chunks.push(t.slice(i, i + n));
      i += n;
    }
    return chunks;
  };

  it.each(FIXTURES)('%s: fed whole', (_name, stream, expected) => {
    expect(parse([stream])).toEqual(expected);
  });

  it.each(FIXTURES)('%s: fed one character at a time', (_name, stream, expected) => {
    expect(parse([...stream])).toEqual(expected);
    expect(parse(stream.split(''))).toEqual(expected); // UTF-16 units: splits surrogate pairs too
  });

  it.each(FIXTURES)('%s: split in two at every point', (_name, stream, expected) => {
    for (let i = 0; i <= stream.length; i++) expect(parse([stream.slice(0, i), stream.slice(i)])).toEqual(expected);
  });

  it.each(FIXTURES)('%s: split at random points (100 splittings)', (_name, stream, expected) => {
    for (let round = 0; round < 100; round++) expect(parse(randomChunks(stream))).toEqual(expected);
  });

  it('a CR at the end of a chunk and the LF at the start of the next are one line break', () => {
    expect(parse(['data: a\r', '\ndata: b\r', '\n\r', '\n'])).toEqual([ev('a\nb')]);
    // ...but a CR followed by something else is a line break of its own.
    expect(parse(['data: a\r', 'data: b\r', '\r'])).toEqual([ev('a\nb')]);
    expect(parse(['data: a\r', '', '\n', '\n'])).toEqual([ev('a')]);
    // eventsource-parser issue #17: a CRLF split after its CR must not end the event early.
    expect(parse(['data: A\r\n', 'data: B\r', '\n', 'data: C\r\n', '\n'])).toEqual([ev('A\nB\nC')]);
  });

  it('reset() starts over: partial line, data, event type and last id are forgotten', () => {
    const { trace, parser } = recorder();
    parser.feed('id: 9\ndata: lost\nevent: x\ndata: also');
    parser.reset();
    parser.feed('\ufeffdata: b\n\n');
    expect(trace).toEqual([ev('b')]);
  });
});

describe('SSE parser buffer bound', () => {
  it('stops once an endless line outgrows maxBufferSize, and says so once', () => {
    const { trace, parser } = recorder({ maxBufferSize: 100 });
    parser.feed('data: ');
    for (let i = 0; i < 10; i++) parser.feed('x'.repeat(30));
    parser.feed('\n\ndata: after\n\n'); // ignored: the parser stopped
    expect(trace).toEqual([['overflow', 126]]);
  });

  it('counts the data lines of an unfinished event too', () => {
    const { trace, parser } = recorder({ maxBufferSize: 100 });
    for (let i = 0; i < 20; i++) parser.feed('data: 0123456789\n');
    expect(trace).toEqual([['overflow', 110]]);
  });

  it('does not count complete events against the bound', () => {
    const { trace, parser } = recorder({ maxBufferSize: 20 });
    let chunk = '';
    for (let i = 0; i < 500; i++) chunk += `data: ${i}\n\n`;
    parser.feed(chunk);
    for (let i = 0; i < 500; i++) parser.feed(`data: ${i}\n\n`);
    expect(trace.length).toBe(1000);
    expect(trace.every(([kind]) => kind === 'event')).toBe(true);
  });

  it('works again after reset()', () => {
    const { trace, parser } = recorder({ maxBufferSize: 10 });
    parser.feed('data: 0123456789');
    parser.reset();
    parser.feed('data: ok\n\n');
    expect(trace).toEqual([['overflow', 16], ev('ok')]);
  });
});
