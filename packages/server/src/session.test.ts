import { FrameCode, decodeServerFrame, encodeTail, type ClientReliableFrame, type ErrorCode, type ServerFrame } from '@wirehop/protocol';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from './options.js';
import { ServerSession, type SessionHost } from './session.js';
import type { Downstream } from './transports/transport.js';
import type { ServerOptions, UserBase } from './types.js';

/** An in-memory downstream: records what is written, with a settable buffer level. */
class MemoryDownstream implements Downstream {
  readonly kind = 'websocket' as const;
  open = true;
  level = 0;
  written: Array<{ frame: ServerFrame; id: number }> = [];
  drained: (() => void) | undefined;
  closedWith: [number, string] | undefined;
  buffered() {
    return this.level;
  }
  write(text: string, id: number) {
    const decoded = decodeServerFrame(text);
    if (!decoded.ok) throw new Error(decoded.message);
    this.written.push({ frame: decoded.frame, id });
  }
  heartbeat() {}
  whenDrained(resume: () => void) {
    this.drained = resume;
  }
  close(code: number, reason: string) {
    this.open = false;
    this.closedWith = [code, reason];
  }
  types() {
    return this.written.map((w) => w.frame.type);
  }
  seqs() {
    return this.written.flatMap((w) => ('seq' in w.frame ? [w.frame.seq] : []));
  }
}

function makeSession(options: ServerOptions = {}, dispatch?: SessionHost<UserBase>['dispatch']) {
  const dispatched: ClientReliableFrame[] = [];
  const ended: Array<{ code: ErrorCode; message: string }> = [];
  const errors: unknown[] = [];
  let acksScheduled = 0;
  const host: SessionHost<UserBase> = {
    options: resolveOptions(options),
    dispatch: dispatch ?? ((_s, frame) => void dispatched.push(frame)),
    scheduleAck: () => void acksScheduled++,
    ended: (_s, code, message) => void ended.push({ code, message }),
    onError: (error) => void errors.push(error),
  };
  const session = new ServerSession('sid', 'token', { id: 'u' }, host, 0);
  return { session, host, dispatched, ended, errors, acks: () => acksScheduled };
}

const welcome = '[25,{"v":1,"sid":"sid","resumed":false,"ack":0,"heartbeatMs":1,"heartbeatTimeoutMs":1,"sessionTtlMs":1,"maxMessageBytes":10}]';
const publish = (session: ServerSession, n: number) => session.pushTail(FrameCode.event, encodeTail(['news', 'e', n, n]));

describe('ServerSession outbound', () => {
  it('writes WELCOME, replays after the ack, then streams live, with SSE ids', () => {
    const { session } = makeSession();
    for (let i = 1; i <= 3; i++) publish(session, i);
    const d = new MemoryDownstream();
    session.attach(d, 1, welcome, 0);
    expect(d.types()).toEqual(['welcome', 'event', 'event']);
    expect(d.written.map((w) => w.id)).toEqual([1, 2, 3]);
    expect(session.held).toMatchObject({ frames: 2, acked: 1, lastSeq: 3 });
    publish(session, 4);
    expect(d.seqs()).toEqual([2, 3, 4]);
    expect(session.onAck(4)).toBe(true);
    expect(session.held.frames).toBe(0);
    expect(session.onAck(5)).toBe(false); // never sent
  });

  it('checks resume points', () => {
    const { session } = makeSession();
    publish(session, 1);
    publish(session, 2);
    expect(session.resumeFrom(3)).toBeUndefined(); // ahead of what was sent: bad_ack
    expect(session.resumeFrom(0)).toBe(0);
    session.onAck(1);
    // Below the client's own ack: stale, not a loss; the replay starts after the ack.
    expect(session.resumeFrom(0)).toBe(1);
    expect(session.resumeFrom(2)).toBe(2);
  });

  it('stops writing above the high-water mark and resumes on drain', () => {
    const { session } = makeSession({ limits: { highWaterMarkBytes: 100 } });
    const d = new MemoryDownstream();
    session.attach(d, 0, welcome, 0);
    d.level = 101;
    publish(session, 1);
    publish(session, 2);
    expect(d.seqs()).toEqual([]);
    expect(session.held.frames).toBe(2);
    d.level = 0;
    d.drained!();
    expect(d.seqs()).toEqual([1, 2]);
  });

  it('a new downstream supersedes the old one', () => {
    const { session } = makeSession();
    const first = new MemoryDownstream();
    session.attach(first, 0, welcome, 0);
    const second = new MemoryDownstream();
    session.attach(second, 0, welcome, 0);
    expect(first.written.at(-1)?.frame).toMatchObject({ type: 'error', code: 'superseded' });
    expect(first.closedWith?.[0]).toBe(4001);
    session.detach(first, 5); // late close of the old one changes nothing
    expect(session.attached).toBe(second);
    session.detach(second, 7);
    expect(session.attached).toBeNull();
    expect(session.detachedAt).toBe(7);
  });

  it('ends with BYE replay_overflow when the replay buffer is full', async () => {
    const { session, ended } = makeSession({ limits: { replayBufferFrames: 3 } });
    const d = new MemoryDownstream();
    session.attach(d, 0, welcome, 0);
    session.processedOrQueued; // (no client frames)
    for (let i = 1; i <= 3; i++) expect(publish(session, i)).toBe(true);
    expect(publish(session, 4)).toBe(false);
    expect(publish(session, 5)).toBe(false);
    await Promise.resolve();
    expect(ended).toEqual([{ code: 'replay_overflow', message: expect.any(String) }]);
    expect(d.written.at(-1)?.frame).toMatchObject({ type: 'bye', code: 'replay_overflow', ack: 0 });
    expect(d.closedWith?.[0]).toBe(4429);
    expect(session.isOpen).toBe(false);
  });

  it('counts held frames by their full text, and a session moved elsewhere replays the same text', () => {
    const { session } = makeSession();
    const texts: string[] = [];
    const d = new MemoryDownstream();
    const write = d.write.bind(d);
    d.write = (text, id) => (texts.push(text), write(text, id));
    session.attach(d, 0, welcome, 0);
    texts.length = 0;
    // Seqs 1..12 (one and two digits), events and a message and a reply between them.
    for (let i = 1; i <= 10; i++) publish(session, i);
    session.send('note', { long: 'x'.repeat(100) });
    session.reply(3, 'ok');
    expect(texts).toHaveLength(12);
    expect(session.held).toMatchObject({ frames: 12, units: texts.reduce((n, t) => n + t.length, 0) });

    const state = session.exportState();
    expect(state.frames).toEqual(texts);
    const there = ServerSession.fromState(state, makeSession().host, 0);
    expect(there.held).toEqual(session.held);
    const d2 = new MemoryDownstream();
    const again: string[] = [];
    d2.write = (text) => void again.push(text);
    there.attach(d2, 4, welcome, 0);
    expect(again.slice(1)).toEqual(texts.slice(4));
  });

  it('validates what the application sends', () => {
    const { session } = makeSession({ limits: { maxMessageBytes: 100 } });
    expect(() => session.send('')).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => session.send('e', 'x'.repeat(200))).toThrow(expect.objectContaining({ code: 'message_too_large' }));
    session.send('e', 1);
    expect(session.held.frames).toBe(1);
  });
});

describe('ServerSession inbound', () => {
  const frame = (seq: number): ClientReliableFrame => ({ type: 'send', seq, event: 'n', data: seq });

  it('delivers in order, drops duplicates, refuses gaps', () => {
    const { session, dispatched } = makeSession();
    expect(session.receive(frame(1))).toBe('accepted');
    expect(session.receive(frame(1))).toBe('duplicate');
    expect(session.receive(frame(3))).toBe('out_of_order');
    expect(session.receive(frame(2))).toBe('accepted');
    expect(dispatched.map((f) => f.seq)).toEqual([1, 2]);
    expect(session.duplicates).toBe(1);
    expect(session.processed).toBe(2);
  });

  it('holds later frames while a hook is pending, and acks only what was processed', async () => {
    let release!: () => void;
    const order: number[] = [];
    const { session, acks } = makeSession({}, (_s, f) => {
      order.push(f.seq);
      if (f.seq === 1) return new Promise<void>((resolve) => (release = resolve));
    });
    session.receive(frame(1));
    session.receive(frame(2));
    expect(order).toEqual([1]);
    expect(session.processed).toBe(0);
    expect(session.processedOrQueued).toBe(2);
    release();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1, 2]);
    expect(session.processed).toBe(2);
    expect(acks()).toBe(2);
  });

  it("counts the frame whose handler ended the session in BYE's ack: sent again, it would run twice", () => {
    const d = new MemoryDownstream();
    const { session } = makeSession({}, (s, f) => {
      if (f.seq === 2) s.close('done');
    });
    session.attach(d, 0, welcome, 0);
    session.receive(frame(1));
    session.receive(frame(2));
    session.receive(frame(3)); // never handed to the application
    expect(d.written.at(-1)!.frame).toMatchObject({ type: 'bye', code: 'session_closed', ack: 2 });
    expect(session.processed).toBe(2);
  });

  it('an answer acks what it answers and all before it: no ACK frame of its own, unless more was processed', async () => {
    const d = new MemoryDownstream();
    let answer!: () => void;
    const { session } = makeSession({}, (s, f) => {
      // Frame 1 answered at once; frame 2 while its hook still holds (a subscribe's authorize).
      if (f.seq === 1) s.reply(1, 'one');
      if (f.seq === 2) return new Promise<void>((resolve) => (answer = () => (s.reply(2, 'two'), resolve())));
    });
    session.attach(d, 0, welcome, 0);
    session.receive(frame(1));
    session.flushAck();
    session.receive(frame(2));
    answer();
    await new Promise((r) => setImmediate(r));
    session.flushAck();
    expect(d.types()).toEqual(['welcome', 'reply', 'reply']);
    session.receive(frame(3));
    session.receive(frame(4));
    session.replyError(3, 'forbidden', 'no'); // 4 is processed too: the ACK still goes
    session.flushAck();
    expect(d.written.slice(3).map((w) => w.frame)).toMatchObject([{ type: 'replyError', re: 3 }, { type: 'ack', ack: 4 }]);
  });

  it('answers POST batches with the ack instead of scheduling one', () => {
    const { session, acks } = makeSession();
    session.beginBatch();
    session.receive(frame(1));
    session.receive(frame(2));
    expect(session.endBatch()).toBe(2);
    expect(acks()).toBe(0);
    expect(session.ackSent).toBe(2);
  });

  it('runs at most limits.handlersInFlight handlers: the next request waits, the frames behind it too, and no ack or BYE counts it', async () => {
    const settle: Array<() => void> = [];
    const started: number[] = [];
    const { session } = makeSession({ limits: { handlersInFlight: 2 } }, (s, f) => {
      started.push(f.seq);
      if (f.type === 'send') s.running(new Promise<void>((resolve) => settle.push(resolve)));
    });
    const d = new MemoryDownstream();
    session.attach(d, 0, welcome, 0);
    for (let seq = 1; seq <= 4; seq++) expect(session.receive(frame(seq))).toBe('accepted');
    session.receive({ type: 'unsubscribe', seq: 5, channel: 'c' });
    expect(started).toEqual([1, 2]);
    expect(session.processed).toBe(2);
    settle[1]!(); // the second handler settles first: any one frees a place
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 2, 3]);
    expect(session.processed).toBe(3);
    // Frame 4 waits for a handler and 5 behind it: ended now, the client learns that neither ran.
    session.close('bye now');
    expect(d.written.at(-1)?.frame).toMatchObject({ type: 'bye', ack: 3 });
    for (const s of settle) s();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 2, 3]);
  });

  it('end drops queued frames and reports how far it processed, the frame in its handler included', () => {
    const { session, ended } = makeSession({}, (_s, f) => (f.seq === 1 ? new Promise<void>(() => undefined) : undefined));
    const d = new MemoryDownstream();
    session.attach(d, 0, welcome, 0);
    session.receive(frame(1));
    session.receive(frame(2));
    session.close('bye now');
    expect(ended).toEqual([{ code: 'session_closed', message: 'bye now' }]);
    expect(d.written.at(-1)?.frame).toEqual({ type: 'bye', code: 'session_closed', message: 'bye now', ack: 1 });
    expect(d.closedWith?.[0]).toBe(4000);
    expect(session.receive(frame(3))).toBe('closed');
  });
});
