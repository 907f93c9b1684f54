import { describe, expect, it } from 'vitest';
import { resolveOptions } from './options.js';

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({ prefix: 'wirehop:', nodeTtlMs: 5_000, commandTimeoutMs: 2_000, channelTtlMs: 86_400_000, sessionTtlMs: 86_400_000, errorIntervalMs: 10_000 });
    expect(o.nodeId).toMatch(/^[\w-]{12}$/);
    expect(resolveOptions({}).nodeId).not.toBe(o.nodeId);
  });

  it('rejects durations that are not positive numbers', () => {
    for (const nodeTtlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => resolveOptions({ nodeTtlMs })).toThrow(RangeError);
    expect(() => resolveOptions({ commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs/);
  });
});
