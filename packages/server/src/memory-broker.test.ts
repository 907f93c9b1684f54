/**
 * What only the in-memory broker has to get right on its own (the shared rules are in
 * test/broker-conformance.ts): forgetting the channels nobody uses, so that a long-running server's
 * memory follows the channels in use, not every name it ever saw.
 */
import { describe, expect, it } from 'vitest';
import { RecordingHost } from '../../../test/broker-conformance.js';
import { MemoryBroker } from './memory-broker.js';

const TTL = 60_000;
const NONE = { size: 0, ttlMs: 0 };
const member = { id: 'u1' };

/** A broker on a test clock; unless `sweepChannels` is given, one sweep looks at every channel. */
async function start(channelTtlMs = TTL, sweepChannels = Number.MAX_SAFE_INTEGER) {
  let now = 1_000_000;
  const host = new RecordingHost();
  const broker = new MemoryBroker({ channelTtlMs, sweepChannels, now: () => now });
  await broker.start(host);
  /** Moves the clock and runs the server's sweep. */
  const after = (ms: number) => {
    now += ms;
    broker.sweep();
  };
  return { broker, after, published: host.publications };
}

describe('MemoryBroker: channels nobody uses', () => {
  it('forgets a channel idle for channelTtlMs; used again, it starts a new epoch at offset 1', async () => {
    const { broker, after } = await start();
    const first = await broker.publish('room', 'a', NONE);
    await broker.publish('room', 'b', NONE);
    after(TTL - 1);
    expect(broker.channelCount).toBe(1);
    after(1);
    expect(broker.channelCount).toBe(0);
    const next = await broker.publish('room', 'c', NONE);
    expect(next.epoch).not.toBe(first.epoch);
    expect(next.offset).toBe(1);
    // A reader of the old epoch learns that what it missed cannot be told: history is incomplete.
    expect((await broker.history('room', { epoch: first.epoch, offset: 2 }, 10)).complete).toBe(false);
  });

  it('keeps every channel in use: subscribed, with presence, or with history left; idle counts from the last use', async () => {
    const { broker, after } = await start();
    await broker.subscribe('sub');
    await broker.presenceAdd('here', member);
    const kept = await broker.publish('kept', 'x', { size: 10, ttlMs: 4 * TTL });
    after(2 * TTL);
    expect(broker.channelCount).toBe(3);

    await broker.unsubscribe('sub');
    await broker.presenceRemove('here', member);
    after(TTL - 1);
    expect(broker.channelCount).toBe(3); // 'sub' and 'here' idle for a moment less than channelTtlMs
    after(1);
    expect(broker.channelCount).toBe(1); // 'kept': idle for longer, but its history lasts
    expect((await broker.history('kept', undefined, 10)).position).toEqual(kept);
    after(TTL - 1);
    expect(broker.channelCount).toBe(1);
    after(1); // its history expired, channelTtlMs after the read above, its last use
    expect(broker.channelCount).toBe(0);
  });

  it('answers a channel nobody published to with the epoch its publications then use', async () => {
    const { broker, after, published } = await start();
    const read = await broker.history('fresh', undefined, 10);
    expect(read.position.offset).toBe(0);
    after(TTL - 1);
    const sub = await broker.subscribe('fresh');
    expect(sub).toEqual(read.position);
    const pub = await broker.publish('fresh', 'x', { size: 10, ttlMs: TTL });
    expect(pub).toEqual({ epoch: read.position.epoch, offset: 1 });
    expect(published).toEqual([{ channel: 'fresh', ...pub, payload: 'x' }]);
    expect((await broker.history('fresh', read.position, 10)).complete).toBe(true);
  });

  it('holds state only for the channels used lately, however many names came and went', async () => {
    const { broker, after } = await start();
    for (let i = 0; i < 10_000; i++) await broker.publish(`dm:${i}`, 'x', { size: 5, ttlMs: 1_000 });
    expect(broker.channelCount).toBe(10_000);
    after(TTL / 2);
    await broker.publish('dm:live', 'x', NONE);
    after(TTL / 2);
    expect(broker.channelCount).toBe(1);
  });

  it('looks at sweepChannels channels per sweep and goes on where it stopped, so no sweep grows with the channel count', async () => {
    const { broker, after } = await start(TTL, 10);
    for (let i = 0; i < 25; i++) await broker.publish(`dm:${i}`, 'x', NONE);
    after(TTL);
    expect(broker.channelCount).toBe(15);
    await broker.publish('late', 'x', NONE); // added mid-pass: reached by this pass, but in use
    after(0);
    expect(broker.channelCount).toBe(6);
    after(0);
    expect(broker.channelCount).toBe(1); // the pass ended with 'late'; the next one starts over
    after(TTL);
    expect(broker.channelCount).toBe(0);
  });

  it('with channelTtlMs 0 forgets a channel as soon as nothing holds it', async () => {
    const { broker, after } = await start(0);
    await broker.subscribe('room');
    after(0);
    expect(broker.channelCount).toBe(1);
    await broker.unsubscribe('room');
    after(0);
    expect(broker.channelCount).toBe(0);
  });

  it('refuses a channelTtlMs that is not a number of ms ≥ 0', () => {
    expect(() => new MemoryBroker({ channelTtlMs: -1 })).toThrow(/channelTtlMs must be a number of ms ≥ 0, got -1/);
    expect(() => new MemoryBroker({ channelTtlMs: Number.NaN })).toThrow(TypeError);
  });

  it('refuses a sweepChannels that is not an integer ≥ 1', () => {
    expect(() => new MemoryBroker({ sweepChannels: 0 })).toThrow(/sweepChannels must be an integer ≥ 1, got 0/);
    expect(() => new MemoryBroker({ sweepChannels: 2.5 })).toThrow(TypeError);
  });
});
