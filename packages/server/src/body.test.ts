import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineSplitter, readLines, readText, type BodyLimits } from './body.js';

const limits: BodyLimits = { maxBodyBytes: 1000, maxLineBytes: 20, maxLines: 5 };

/** Feeds `body` split at the given offsets; returns the lines and how it ended. */
function split(body: string, cuts: number[], l = limits) {
  const lines: string[] = [];
  const splitter = new LineSplitter(l, (line) => (lines.push(line), undefined));
  const bytes = Buffer.from(body);
  let result: ReturnType<LineSplitter['feed']>;
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    result = splitter.feed(bytes.subarray(start, cut));
    start = cut;
    if (result) return { lines, result };
  }
  return { lines, result: splitter.end() };
}

const body = '[20,1]\r\n\n[21,2]\n[4,1,"é",null]\n[20,3]';
const expected = ['[20,1]', '[21,2]', '[4,1,"é",null]', '[20,3]'];

describe('LineSplitter', () => {
  it('splits whole, byte by byte and at random points the same way', () => {
    expect(split(body, [])).toEqual({ lines: expected, result: undefined });
    const n = Buffer.byteLength(body);
    expect(split(body, Array.from({ length: n }, (_, i) => i))).toEqual({ lines: expected, result: undefined });
    for (let run = 0; run < 50; run++) {
      const cuts = Array.from({ length: 4 }, () => Math.floor(Math.random() * n)).sort((a, b) => a - b);
      expect(split(body, cuts).lines).toEqual(expected);
    }
  });

  it('refuses a long line as soon as it passes the limit, keeping the lines before it', () => {
    const { lines, result } = split('[20,1]\n' + 'x'.repeat(30), [9]);
    expect(lines).toEqual(['[20,1]']);
    expect(result).toMatchObject({ code: 'message_too_large' });
  });

  it('counts lines and body bytes', () => {
    expect(split('1\n2\n3\n4\n5\n6\n', []).result).toMatchObject({ code: 'body_too_large' });
    expect(split('1\n'.repeat(10), [], { ...limits, maxBodyBytes: 8, maxLines: 100 }).result).toMatchObject({ code: 'body_too_large' });
  });

  it('stops when the consumer says so', () => {
    const seen: string[] = [];
    const splitter = new LineSplitter(limits, (line) => (seen.push(line), line === 'b' ? 'stop' : undefined));
    expect(splitter.feed(Buffer.from('a\nb\nc\n'))).toBe('stop');
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('readLines / readText', () => {
  it('reads a stream to its end', async () => {
    const lines: string[] = [];
    const end = await readLines(Readable.from([Buffer.from('a\nb'), Buffer.from('c\n')]), new LineSplitter(limits, (l) => (lines.push(l), undefined)));
    expect(end).toEqual({ kind: 'end' });
    expect(lines).toEqual(['a', 'bc']);
  });

  it('reports a limit without reading further', async () => {
    const end = await readLines(Readable.from([Buffer.from('x'.repeat(50))]), new LineSplitter(limits, () => undefined));
    expect(end).toMatchObject({ kind: 'error', error: { code: 'message_too_large' } });
  });

  it('reads a small body as text, or refuses a large one', async () => {
    expect(await readText(Readable.from([Buffer.from('[24,\n{"v":1}]')]), 100)).toBe('[24,\n{"v":1}]');
    expect(await readText(Readable.from([Buffer.from('x'.repeat(200))]), 100)).toMatchObject({ code: 'body_too_large' });
  });
});
