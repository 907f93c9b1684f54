import { WirehopError } from '@wirehop/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { promiseReply } from './requests.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('promiseReply', () => {
  it('settles once: the first answer wins', async () => {
    const [reply, promise] = promiseReply<number>();
    reply.ok(1);
    reply.ok(2);
    reply.fail(new WirehopError('forbidden'));
    expect(reply.done).toBe(true);
    await expect(promise).resolves.toBe(1);
  });

  it('rejects with the WirehopError it is given', async () => {
    const [reply, promise] = promiseReply();
    reply.fail(new WirehopError('forbidden', 'no'));
    await expect(promise).rejects.toMatchObject({ code: 'forbidden', message: 'no' });
  });

  it('times out with `timeout`, and ignores a late answer', async () => {
    vi.useFakeTimers();
    const [reply, promise] = promiseReply(1000);
    const outcome = promise.catch((e: WirehopError) => e);
    vi.advanceTimersByTime(999);
    expect(reply.done).toBe(false);
    vi.advanceTimersByTime(1);
    expect(reply.done).toBe(true);
    reply.ok('late');
    expect(await outcome).toMatchObject({ code: 'timeout' });
  });

  it('calls onTimeout after a timeout only', () => {
    vi.useFakeTimers();
    let forgotten = 0;
    const [late, latePromise] = promiseReply(10, () => forgotten++);
    latePromise.catch(() => {});
    const [quick] = promiseReply(10, () => forgotten++);
    quick.ok(1);
    vi.advanceTimersByTime(10);
    expect(late.done).toBe(true);
    expect(forgotten).toBe(1);
  });

    it('clears its timer when answered in time', () => {
    vi.useFakeTimers();
    const [reply] = promiseReply(1000);
    expect(vi.getTimerCount()).toBe(1);
    reply.ok(null);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sets no timer without a timeout', () => {
    vi.useFakeTimers();
    promiseReply();
    promiseReply(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
