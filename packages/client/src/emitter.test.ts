import { describe, expect, it } from 'vitest';
import { createEmitter } from './emitter.js';

describe('createEmitter', () => {
  it('calls listeners with the arguments, until removed', () => {
    const e = createEmitter(() => {});
    const got: unknown[] = [];
    const off = e.on('x', (a: number, b: string) => got.push([a, b]));
    e.emit('x', 1, 'a');
    off();
    e.emit('x', 2, 'b');
    expect(got).toEqual([[1, 'a']]);
  });

  it('reports a throwing listener and still calls the others', () => {
    const reported: Array<[unknown, string]> = [];
    const e = createEmitter((error, event) => reported.push([error, event]));
    const got: number[] = [];
    const boom = new Error('boom');
    e.on('x', () => {
      throw boom;
    });
    e.on('x', (n: number) => got.push(n));
    e.emit('x', 7);
    expect(got).toEqual([7]);
    expect(reported).toEqual([[boom, 'x']]);
  });

  it('lets a listener remove itself while the event is being emitted', () => {
    const e = createEmitter(() => {});
    const got: string[] = [];
    const off = e.on('x', () => {
      got.push('once');
      off();
    });
    e.on('x', () => got.push('always'));
    e.emit('x');
    e.emit('x');
    expect(got).toEqual(['once', 'always', 'always']);
  });

  it('calls a listener added twice once, and one added during an emit from the next emit on', () => {
    const e = createEmitter(() => {});
    const got: string[] = [];
    const twice = () => got.push('twice');
    e.on('x', twice);
    const off = e.on('x', twice);
    e.on('x', () => void e.on('x', () => got.push('late')));
    e.emit('x');
    expect(got).toEqual(['twice']);
    got.length = 0;
    off();
    e.emit('x');
    expect(got).toEqual(['late']);
  });
});
