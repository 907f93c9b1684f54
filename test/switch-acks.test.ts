/**
 * A switch while a stream arrives fast: the new transport resumes the session (its resume point
 * was fixed when it set out) while the old one goes on delivering and acking. The server's replay
 * buffer must not fill up for want of acks meanwhile, and the new transport's resume point, stale
 * by then, must not end the session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { audit, exactly } from './helpers/streams.js';
import { waitFor } from './helpers/wait.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const EVENTS = 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a switch during a fast stream', () => {
  it('WebSocket → SSE with a slow SSE answer: acks go on, nothing overflows, every event arrives once and in order', async () => {
    // A replay buffer of 40 frames: held acks would overflow it five times over.
    fx = await startFixture({ limits: { replayBufferFrames: 40 } });
    fx.wh.channel('stream');
    // The SSE stream's request leaves 800 ms late, its Last-Event-ID already written: the resume
    // point it carries is by then far behind what the client acked on WebSocket.
    const slowSse: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/sse') && (init?.method ?? 'GET') === 'GET') await sleep(800);
      return fetch(input, init);
    };
    const client = fx.client({ adaptive: false, fetch: slowSse });
    const gaps: unknown[] = [];
    client.on('gap', (g) => gaps.push(g));
    const got: number[] = [];
    const stream = client.channel('stream');
    stream.on('e', (d) => got.push(d as number));
    await client.connect();
    await stream.subscribe();
    expect(client.transport).toBe('websocket');
    const session = client.sessionId;

    const switched = client.switchTransport('sse');
    for (let i = 0; i < EVENTS / 10; i++) {
      for (let j = 0; j < 10; j++) fx.wh.publish('stream', 'e', i * 10 + j);
      await sleep(20);
    }
    await switched;
    await waitFor(() => got.length >= EVENTS, { what: 'every event' });

    expect(gaps).toEqual([]);
    expect(client.sessionId).toBe(session);
    expect(client.transport).toBe('sse');
    expect(audit(got, EVENTS)).toEqual(exactly(EVENTS));
  });
});
