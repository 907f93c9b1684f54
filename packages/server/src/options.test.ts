import { Defaults, PIPELINED_FRAMES } from '@wirehop/protocol';
import { describe, expect, it } from 'vitest';
import { resolveOptions, ServerDefaults } from './options.js';

describe('resolveOptions', () => {
  it('fills every default', () => {
    const o = resolveOptions();
    expect(o.path).toBe(ServerDefaults.path);
    expect(o.origins).toBe('same-origin');
    expect(o.cors).toEqual({ credentials: true, maxAgeS: 600 });
    expect(o.heartbeatMs).toBe(Defaults.heartbeatMs);
    expect(o.tombstoneTtlMs).toBe(300_000);
    expect(o.maxTombstones).toBe(10_000);
    expect(o.limits).toEqual({
      maxMessageBytes: Defaults.maxMessageBytes,
      maxBatchBytes: Defaults.maxBatchBytes,
      maxBatchFrames: Defaults.maxBatchFrames,
      postsInFlight: 4,
      postWaitMs: 10_000,
      replayBufferFrames: Defaults.replayBufferFrames,
      replayBufferBytes: Defaults.replayBufferBytes,
      highWaterMarkBytes: Defaults.highWaterMarkBytes,
      maxChannelLength: Defaults.maxChannelLength,
      maxNameLength: Defaults.maxNameLength,
      maxEarlyMessages: 1024,
      maxSubscriptions: 1024,
      maxPendingFrames: 10_000,
      handlersInFlight: 64,
      maxPendingPublications: 10_000,
    });
    expect(o.maxEventLoopDelayMs).toBe(0);
    expect(typeof o.onError).toBe('function');
  });

  it('normalises the path and origin lists', () => {
    expect(resolveOptions({ path: '/rt/' }).path).toBe('/rt');
    expect(resolveOptions({ path: '/' }).path).toBe('/');
    const o = resolveOptions({ origins: ['https://a.example', 'http://b.example:8080'] });
    expect(o.origins).toEqual(new Set(['https://a.example', 'http://b.example:8080']));
  });

  it('rejects invalid values with a message naming the option', () => {
    expect(() => resolveOptions({ heartbeatMs: 0 })).toThrow(/options\.heartbeatMs must be an integer/);
    expect(() => resolveOptions({ sessionTtlMs: 1.5 })).toThrow(/sessionTtlMs/);
    expect(() => resolveOptions({ limits: { maxBatchFrames: -1 } })).toThrow(/limits\.maxBatchFrames/);
    // Below what a client may send behind its HELLO, every connection of the reference client would be refused.
    expect(() => resolveOptions({ limits: { maxEarlyMessages: PIPELINED_FRAMES - 1 } })).toThrow(/limits\.maxEarlyMessages must be an integer from 64/);
    expect(() => resolveOptions({ limits: { maxSubscriptions: 0 } })).toThrow(/limits\.maxSubscriptions must be an integer from 1/);
    expect(() => resolveOptions({ limits: { maxPendingFrames: 63 } })).toThrow(/limits\.maxPendingFrames must be an integer from 64/);
    expect(() => resolveOptions({ limits: { handlersInFlight: 0 } })).toThrow(/limits\.handlersInFlight must be an integer from 1/);
    expect(() => resolveOptions({ maxEventLoopDelayMs: -1 })).toThrow(/options\.maxEventLoopDelayMs must be an integer from 0/);
    expect(() => resolveOptions({ path: 'wirehop' })).toThrow(/options\.path/);
    expect(() => resolveOptions({ origins: ['https://a.example/path'] })).toThrow(/not an origin/);
    expect(() => resolveOptions({ cors: { credentials: 'yes' as unknown as boolean } })).toThrow(/cors\.credentials/);
    expect(() => resolveOptions({ onError: 'log' as unknown as () => void })).toThrow(/onError must be a function/);
  });

  it('rejects unknown keys (typos would otherwise be silently ignored)', () => {
    expect(() => resolveOptions({ heartbeatMS: 5 } as never)).toThrow(/unknown option heartbeatMS/);
    expect(() => resolveOptions({ limits: { maxMessageSize: 5 } } as never)).toThrow(/unknown option limits\.maxMessageSize/);
  });

  it('rejects limits that contradict each other', () => {
    expect(() => resolveOptions({ limits: { maxMessageBytes: 2048, maxBatchBytes: 1024 } })).toThrow(/must fit in one POST/);
    expect(() => resolveOptions({ limits: { maxMessageBytes: 4096, replayBufferBytes: 1024 } })).toThrow(/must fit in the replay buffer/);
  });
});
