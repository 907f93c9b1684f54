/**
 * Several client frames in one WebSocket message (protocol.md §4, WELCOME.batch), spoken raw: the
 * server applies them in order as if each had come alone, stops at the first bad one (those before
 * it stand), and holds a message to maxBatchFrames.
 */
import { PIPELINED_FRAMES, PROTOCOL_VERSION, encodeFrame } from '@wirehop/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from './helpers/fixture.js';
import { rawWs, type RawWs } from './helpers/raw.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const request = (seq: number) => encodeFrame({ type: 'request', seq, method: 'echo', data: seq });

async function session(maxBatchFrames?: number): Promise<RawWs> {
  fx = await startFixture(maxBatchFrames ? { limits: { maxBatchFrames } } : {});
  fx.wh.onRequest('echo', (data) => data);
  const ws = await rawWs(fx.url);
  ws.send({ type: 'hello', v: PROTOCOL_VERSION });
  // The WELCOME says how many frames a message may hold: the server's maxBatchFrames.
  expect(await ws.next('welcome')).toMatchObject({ batch: maxBatchFrames ?? 1024 });
  return ws;
}

describe('WebSocket batches', () => {
  it('applies the frames of one message in order, as if each had come alone', async () => {
    const ws = await session();
    ws.send([request(1), request(2), request(3)].join('\n') + '\n');
    for (const re of [1, 2, 3]) expect(await ws.next('reply')).toMatchObject({ re, data: re });
    ws.send(request(4)); // one frame alone still works
    expect(await ws.next('reply')).toMatchObject({ re: 4, data: 4 });
    // A frame repeated in a later batch is dropped as a duplicate, as alone.
    ws.send([request(4), request(5)].join('\n'));
    expect(await ws.next('reply')).toMatchObject({ re: 5, data: 5 });
    expect(ws.frames.filter((f) => f.type === 'reply')).toHaveLength(5);
    ws.ws.close();
  });

  it('stops at the first bad frame: those before it stand, the socket closes with its error', async () => {
    const ws = await session();
    ws.send([request(1), '[6,2,"echo"', request(3)].join('\n'));
    expect(await ws.next('reply')).toMatchObject({ re: 1 });
    expect(await ws.next('error')).toMatchObject({ code: 'bad_frame' });
    expect((await ws.closed).code).toBe(4400);
    expect(ws.frames.filter((f) => f.type === 'reply')).toHaveLength(1);
  });

  it('refuses a message of more than maxBatchFrames frames', async () => {
    const ws = await session(2);
    ws.send([request(1), request(2)].join('\n') + '\n'); // a trailing separator is no frame
    expect(await ws.next('reply')).toMatchObject({ re: 1 });
    expect(await ws.next('reply')).toMatchObject({ re: 2 });
    ws.send([request(3), request(4), request(5)].join('\n'));
    expect(await ws.next('error')).toMatchObject({ code: 'bad_frame', message: expect.stringContaining('maxBatchFrames (2)') });
    expect(ws.frames.filter((f) => f.type === 'reply')).toHaveLength(2);
  });
});

describe('frames in the HELLO message (protocol.md §4)', () => {
  const hello = encodeFrame({ type: 'hello', v: PROTOCOL_VERSION });
  const subscribe = (seq: number, channel: string) => encodeFrame({ type: 'subscribe', seq, channel });

  async function open(maxBatchFrames?: number): Promise<RawWs> {
    fx = await startFixture(maxBatchFrames ? { limits: { maxBatchFrames } } : {});
    fx.wh.onRequest('echo', (data) => data);
    fx.wh.channel('a');
    fx.wh.channel('b');
    return rawWs(fx.url);
  }

  it('are applied once the session is attached, and answered right behind the WELCOME', async () => {
    const ws = await open();
    ws.send([hello, subscribe(1, 'a'), request(2), subscribe(3, 'b')].join('\n'));
    expect(await ws.next('welcome')).toMatchObject({ resumed: false, ack: 0 });
    const replies = [await ws.next('reply'), await ws.next('reply'), await ws.next('reply')];
    expect(replies.map((r) => r.re).sort()).toEqual([1, 2, 3]);
    // The session goes on as usual: later messages, and its subscriptions.
    ws.send(request(4));
    expect(await ws.next('reply')).toMatchObject({ re: 4, data: 4 });
    fx!.wh.publish('b', 'news', 1);
    expect(await ws.next('event')).toMatchObject({ channel: 'b', event: 'news', data: 1 });
    ws.ws.close();
  });

  it("up to PIPELINED_FRAMES of them, whatever the server's maxBatchFrames; more is bad_frame", async () => {
    let ws = await open(2);
    const frames = (n: number) => Array.from({ length: n }, (_, i) => request(i + 1));
    ws.send([hello, ...frames(PIPELINED_FRAMES)].join('\n'));
    await ws.next('welcome');
    for (let re = 1; re <= PIPELINED_FRAMES; re++) expect(await ws.next('reply')).toMatchObject({ re });
    ws.ws.close();
    ws = await rawWs(fx!.url);
    ws.send([hello, ...frames(PIPELINED_FRAMES + 1)].join('\n'));
    expect(await ws.next('error')).toMatchObject({ code: 'bad_frame', message: `more than ${PIPELINED_FRAMES} frames behind HELLO in its message` });
    expect((await ws.closed).code).toBe(4400);
    expect(ws.frames.some((f) => f.type === 'welcome')).toBe(false);
  });

  it('stop at the first bad one once the session is attached: those before it stand', async () => {
    const ws = await open();
    ws.send([hello, request(1), '[5,2,"echo"', request(3)].join('\n'));
    await ws.next('welcome');
    expect(await ws.next('reply')).toMatchObject({ re: 1 });
    expect(await ws.next('error')).toMatchObject({ code: 'bad_frame' });
    expect((await ws.closed).code).toBe(4400);
    expect(ws.frames.filter((f) => f.type === 'reply')).toHaveLength(1);
  });

  it('only HELLO carries frames: a PING with frames behind it is bad_frame, a PING alone is answered', async () => {
    const ws = await open();
    ws.send(encodeFrame({ type: 'ping', n: 7 }));
    expect(await ws.next('pong')).toMatchObject({ n: 7 });
    ws.send([encodeFrame({ type: 'ping', n: 8 }), request(1)].join('\n'));
    expect(await ws.next('error')).toMatchObject({ code: 'bad_frame', message: 'only HELLO may carry frames in its message, got ping' });
    expect((await ws.closed).code).toBe(4400);
  });
});

describe.each(['websocket', 'sse'] as const)('the client under WELCOME.batch, on %s', (transport) => {
  it("cuts what one task sends at the server's maxBatchFrames: all of it arrives, once, in order", async () => {
    fx = await startFixture({ limits: { maxBatchFrames: 4 } });
    const got: number[] = [];
    fx.wh.onMessage('n', (data) => void got.push(data as number));
    const client = fx.client({ transports: [transport], adaptive: false });
    await client.connect();
    const sent = Array.from({ length: 10 }, (_, i) => client.send('n', i + 1)); // one task
    await Promise.all(sent);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(client.stats.reconnects).toBe(0);
  });

  it("keeps a batch within the server's byte limits", async () => {
    fx = await startFixture({ limits: { maxMessageBytes: 1024, maxBatchBytes: 2048 } });
    const got: string[] = [];
    fx.wh.onMessage('n', (data) => void got.push(data as string));
    const client = fx.client({ transports: [transport], adaptive: false });
    await client.connect();
    const texts = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(900, '.'));
    await Promise.all(texts.map((text) => client.send('n', text))); // one task, 9 KB
    expect(got).toEqual(texts);
    expect(client.stats.reconnects).toBe(0);
  });
});
