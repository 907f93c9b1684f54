import { WirehopError } from '@wirehop/protocol';
import { describe, expect, it } from 'vitest';
import { createSwitcher, type Job } from './switcher.js';
import type { TransportName } from './types.js';

/** A switcher whose runs the test settles by hand. */
function setup(at: TransportName | null = 'websocket') {
  const state = { at: at ?? undefined, runs: [] as Array<{ job: Job; ok: () => void; no: (e: WirehopError) => void }> };
  const sw = createSwitcher(
    (job) =>
      new Promise((ok, no) => {
        state.runs.push({
          job,
          ok: () => {
            state.at = job.to;
            ok();
          },
          no,
        });
      }),
    () => state.at,
  );
  return { sw, state };
}

/** Settles of a promise, as they happen. */
function watch(p: Promise<void>, log: string[], name: string) {
  p.then(
    () => log.push(`${name} ok`),
    (e: WirehopError) => log.push(`${name} ${e.code}`),
  );
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('createSwitcher', () => {
  it('resolves at once when the session already runs there', async () => {
    const { sw, state } = setup('sse');
    await sw.request('sse', 'manual');
    expect(state.runs).toEqual([]);
    expect(sw.busy()).toBe(false);
  });

  it('runs one switch at a time: a request for the same target joins it, another waits', async () => {
    const { sw, state } = setup();
    const log: string[] = [];
    watch(sw.request('sse', 'manual'), log, 'a');
    watch(sw.request('sse', 'manual'), log, 'b');
    watch(sw.request('websocket', 'manual'), log, 'c');
    expect(state.runs).toHaveLength(1);
    expect(sw.busy()).toBe(true);
    state.runs[0]!.ok();
    await flush();
    expect(log).toEqual(['a ok', 'b ok']);
    // then the waiting one, back to WebSocket
    expect(state.runs).toHaveLength(2);
    expect(state.runs[1]!.job.to).toBe('websocket');
    state.runs[1]!.ok();
    await flush();
    expect(log).toEqual(['a ok', 'b ok', 'c ok']);
    expect(sw.busy()).toBe(false);
  });

  it('keeps only the newest waiting request: an older one for the other transport is superseded', async () => {
    const { sw, state } = setup();
    const log: string[] = [];
    watch(sw.request('sse', 'manual'), log, 'a'); // runs
    watch(sw.request('websocket', 'manual'), log, 'b'); // waits
    watch(sw.request('sse', 'manual'), log, 'c'); // joins the running one; b is moot
    await flush();
    expect(log).toEqual(['b superseded']);
    state.runs[0]!.ok();
    await flush();
    expect(log).toEqual(['b superseded', 'a ok', 'c ok']);
    expect(state.runs).toHaveLength(1);
  });

  it('a failed switch rejects its callers; the waiting one still runs', async () => {
    const { sw, state } = setup();
    const log: string[] = [];
    watch(sw.request('sse', 'manual'), log, 'a');
    watch(sw.request('websocket', 'manual'), log, 'b');
    state.runs[0]!.no(new WirehopError('transport_failed'));
    await flush();
    expect(log).toEqual(['a transport_failed', 'b ok']); // already on WebSocket: nothing to run
    expect(state.runs).toHaveLength(1);
  });

  it('waits for a session to move, and starts when kicked', async () => {
    const { sw, state } = setup(null);
    const log: string[] = [];
    watch(sw.request('sse', 'manual'), log, 'a');
    expect(state.runs).toEqual([]);
    expect(sw.busy()).toBe(true);
    state.at = 'websocket';
    sw.kick();
    expect(state.runs).toHaveLength(1);
    state.runs[0]!.ok();
    await flush();
    expect(log).toEqual(['a ok']);
  });

  it('takes the newest reason, and a request without confirm clears it', () => {
    const { sw, state } = setup(null);
    void sw.request('sse', 'degraded', () => false);
    void sw.request('sse', 'manual');
    state.at = 'websocket';
    sw.kick();
    expect(state.runs[0]!.job).toMatchObject({ to: 'sse', reason: 'manual', confirm: undefined });
    // joining a running job as well
    const other = setup();
    void other.sw.request('sse', 'recovered', () => false);
    void other.sw.request('sse', 'manual');
    expect(other.state.runs[0]!.job).toMatchObject({ reason: 'manual', confirm: undefined });
  });

  it('close rejects everything, running or waiting', async () => {
    const { sw } = setup();
    const log: string[] = [];
    watch(sw.request('sse', 'manual'), log, 'a');
    watch(sw.request('websocket', 'manual'), log, 'b');
    sw.close(new WirehopError('client_closed'));
    await flush();
    expect(log).toEqual(['a client_closed', 'b client_closed']);
  });

  it('under a storm of requests, never has two runs at once and settles every caller', async () => {
    const { sw, state } = setup();
    const settled: string[] = [];
    let concurrent = 0;
    let most = 0;
    const targets: TransportName[] = ['sse', 'websocket'];
    for (let i = 0; i < 200; i++) {
      watch(sw.request(targets[i % 3 === 0 ? 1 : 0]!, 'manual'), settled, String(i));
      const open = state.runs.filter((r) => !(r as { done?: boolean }).done);
      concurrent = open.length;
      most = Math.max(most, concurrent);
      if (i % 4 === 3) {
        for (const r of open) {
          (r as { done?: boolean }).done = true;
          r.ok();
        }
        await flush();
      }
    }
    for (let guard = 0; sw.busy() && guard < 100; guard++) {
      for (const r of state.runs.filter((r) => !(r as { done?: boolean }).done)) {
        (r as { done?: boolean }).done = true;
        r.ok();
      }
      await flush();
    }
    expect(most).toBe(1);
    expect(settled).toHaveLength(200);
    expect(sw.busy()).toBe(false);
  });
});
