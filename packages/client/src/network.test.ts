import { describe, expect, it } from 'vitest';
import { watchNetwork, type HintSource } from './network.js';

/** An EventTarget that counts its listeners, as a window or a document. */
function fakeTarget(visibilityState = 'visible') {
  const target = new EventTarget();
  let listeners = 0;
  const source = {
    visibilityState,
    addEventListener(type: string, listener: () => void) {
      listeners++;
      target.addEventListener(type, listener);
    },
    removeEventListener(type: string, listener: () => void) {
      listeners--;
      target.removeEventListener(type, listener);
    },
    fire: (type: string) => target.dispatchEvent(new Event(type)),
    get listeners() {
      return listeners;
    },
  };
  return source;
}

function watch(global: HintSource, doc?: HintSource) {
  const calls: string[] = [];
  const stop = watchNetwork({ offline: () => calls.push('offline'), online: () => calls.push('online'), visible: () => calls.push('visible') }, global, doc);
  return { calls, stop };
}

describe('watchNetwork', () => {
  it('passes on offline and online', () => {
    const win = fakeTarget();
    const { calls } = watch(win, fakeTarget());
    win.fire('offline');
    win.fire('online');
    expect(calls).toEqual(['offline', 'online']);
  });

  it('reports visible only after the page was hidden', () => {
    const doc = fakeTarget('visible');
    const { calls } = watch(fakeTarget(), doc);
    doc.fire('visibilitychange'); // visible → visible: nothing to check
    doc.visibilityState = 'hidden';
    doc.fire('visibilitychange');
    expect(calls).toEqual([]);
    doc.visibilityState = 'visible';
    doc.fire('visibilitychange');
    doc.fire('visibilitychange');
    expect(calls).toEqual(['visible']);
  });

  it('removes every listener it added', () => {
    const win = fakeTarget();
    const doc = fakeTarget();
    const { calls, stop } = watch(win, doc);
    expect([win.listeners, doc.listeners]).toEqual([2, 1]);
    stop();
    expect([win.listeners, doc.listeners]).toEqual([0, 0]);
    win.fire('offline');
    expect(calls).toEqual([]);
  });

  it('does nothing where there are no such events (Node: no addEventListener, no document)', () => {
    const { stop } = watch({}, undefined);
    expect(() => stop()).not.toThrow();
    expect(() => watchNetwork({ offline() {}, online() {}, visible() {} })()).not.toThrow();
  });
});
