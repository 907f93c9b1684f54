import { FrameCode, WirehopError, type WelcomeFrame } from '@wirehop/protocol';
import { describe, expect, it } from 'vitest';
import type { Reply } from './requests.js';
import { Session, checkName, item, type Item, type Resubscriber } from './session.js';

/** A Reply that records how it was settled. */
function recorder() {
  const r = {
    done: false,
    outcome: undefined as undefined | { ok: unknown } | { fail: string },
    ok(value: unknown) {
      if (r.done) return;
      r.done = true;
      r.outcome = { ok: value };
    },
    fail(error: WirehopError) {
      if (r.done) return;
      r.done = true;
      r.outcome = { fail: error.code };
    },
  };
  return r;
}

const limits = { maxQueue: 100, maxMessageBytes: 1000 };

function welcome(over: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return { type: 'welcome', v: 1, sid: 'S1', token: 'T1', resumed: false, ack: 0, heartbeatMs: 15_000, heartbeatTimeoutMs: 10_000, sessionTtlMs: 30_000, maxMessageBytes: 1000, ...over };
}

function queue(s: Session, code: FrameCode, fields: unknown[], ch?: string) {
  const r = recorder();
  const seq = s.push(item(code, fields, r, ch));
  expect(typeof seq).toBe('number');
  return { r, seq: seq as number };
}

/** A channel stand-in: `want` as given; re-subscriptions are recorded. */
function channel(name: string, want: boolean) {
  const made: Reply[][] = [];
  const c: Resubscriber & { made: Reply[][] } = {
    name,
    want,
    made,
    resubscribe(carried) {
      made.push(carried);
      return item(FrameCode.subscribe, [name], { ok: (v) => carried.forEach((r) => r.ok(v)), fail: (e) => carried.forEach((r) => r.fail(e)) }, name);
    },
  };
  return c;
}

describe('Session outbox', () => {
  it('numbers frames from 1 and builds them at send time', () => {
    const s = new Session(limits);
    queue(s, FrameCode.subscribe, ['room:1'], 'room:1');
    queue(s, FrameCode.publish, ['room:1', 'msg', { text: 'hi' }]);
    queue(s, FrameCode.send, ['note', null]);
    expect(s.frames(0)).toEqual(['[1,1,"room:1"]', '[3,2,"room:1","msg",{"text":"hi"}]', '[4,3,"note",null]']);
    expect(s.frames(2)).toEqual(['[4,3,"note",null]']);
    expect(s.out.size).toBe(3);
  });

  it('refuses a frame over maxMessageBytes (UTF-8, whole frame) and queues nothing', () => {
    const s = new Session({ maxQueue: 10, maxMessageBytes: 22 });
    // [4,1,"n","ééééé"]: 12 bytes around the string, 2 per é
    const fits = s.push(item(FrameCode.send, ['n', 'é'.repeat(5)], recorder()));
    expect(fits).toBe(1);
    const tooBig = s.push(item(FrameCode.send, ['n', 'é'.repeat(6)], recorder()));
    expect(tooBig).toBeInstanceOf(WirehopError);
    expect((tooBig as WirehopError).code).toBe('message_too_large');
    expect(s.out.size).toBe(1);
    expect(s.frames(0)).toEqual(['[4,1,"n","ééééé"]']);
  });

  it('refuses with queue_full beyond maxQueue, counting unacked frames', () => {
    const s = new Session({ maxQueue: 2, maxMessageBytes: 1000 });
    queue(s, FrameCode.send, ['a', 1]);
    queue(s, FrameCode.send, ['a', 2]);
    expect((s.push(item(FrameCode.send, ['a', 3], recorder())) as WirehopError).code).toBe('queue_full');
    expect(s.ack(1)).toBe(true);
    expect(s.push(item(FrameCode.send, ['a', 3], recorder()))).toBe(3);
  });

  it('settles sends on ack, and keeps answers pending past the ack', () => {
    const s = new Session(limits);
    const send = queue(s, FrameCode.send, ['a', 1]);
    const req = queue(s, FrameCode.request, ['m', 1]);
    expect(s.ack(2)).toBe(true);
    expect(send.r.outcome).toEqual({ ok: undefined });
    expect(req.r.done).toBe(false);
    expect(s.out.size).toBe(0);
    s.answer(req.seq, 42);
    expect(req.r.outcome).toEqual({ ok: 42 });
  });

  it('refuses an ack of a frame never sent, and tolerates an old one', () => {
    const s = new Session(limits);
    queue(s, FrameCode.send, ['a', 1]);
    expect(s.ack(2)).toBe(false);
    expect(s.ack(1)).toBe(true);
    expect(s.ack(0)).toBe(true);
    expect(s.ack(1)).toBe(true);
  });

  it('stops waiting for an answer the caller gave up on', () => {
    const s = new Session(limits);
    const a = queue(s, FrameCode.request, ['m', 1]);
    const b = queue(s, FrameCode.request, ['m', 2]);
    s.forget(a.r);
    expect([...s.waiting.keys()]).toEqual([b.seq]);
    s.answer(a.seq, 'late');
    expect(a.r.done).toBe(false);
  });

    it('settles an answer once, by seq, and ignores unknown or repeated ones', () => {
    const s = new Session(limits);
    const req = queue(s, FrameCode.request, ['m', 1]);
    s.answer(99, 'nope');
    expect(req.r.done).toBe(false);
    s.answer(req.seq, undefined, new WirehopError('no_handler', 'x'));
    s.answer(req.seq, 'late');
    expect(req.r.outcome).toEqual({ fail: 'no_handler' });
  });
});

describe('Session handshake', () => {
  it('says HELLO for a new session with auth, then resumes with sid, token and the last delivered seq', () => {
    const s = new Session(limits);
    expect(s.hello({ user: 'ada' })).toEqual({ type: 'hello', v: 1, auth: { user: 'ada' } });
    expect(s.hello()).toEqual({ type: 'hello', v: 1 });
    expect(s.attach(welcome())).toBeUndefined();
    expect(s.in.accept(1)).toBe('deliver');
    expect(s.in.accept(2)).toBe('deliver');
    expect(s.hello({ user: 'ignored' })).toEqual({ type: 'hello', v: 1, sid: 'S1', token: 'T1', ack: 2 });
    // the resume point acks what was delivered
    expect(s.in.unacked).toBe(0);
  });

  it('resends only what WELCOME.ack says the server lacks', () => {
    const s = new Session(limits);
    for (let i = 1; i <= 4; i++) queue(s, FrameCode.send, ['n', i]);
    expect(s.attach(welcome({ ack: 0 }))).toBeUndefined();
    expect(s.attach(welcome({ resumed: true, token: undefined, ack: 3 }))).toBeUndefined();
    expect(s.frames(3)).toEqual(['[4,4,"n",4]']);
    expect(s.out.size).toBe(1);
    expect(s.sid).toBe('S1');
    expect(s.token).toBe('T1');
  });

  it('refuses a WELCOME that acks frames never sent, or a new session without a token', () => {
    const s = new Session(limits);
    expect(s.attach(welcome({ ack: 1 }))?.code).toBe('bad_ack');
    const t = new Session(limits);
    expect(t.attach(welcome({ token: undefined }))?.code).toBe('bad_frame');
  });

  it('adopts the maxMessageBytes of WELCOME', () => {
    const s = new Session(limits);
    s.attach(welcome({ maxMessageBytes: 30 }));
    expect((s.push(item(FrameCode.send, ['n', 'x'.repeat(30)], recorder())) as WirehopError).code).toBe('message_too_large');
  });
});

describe('Session inbox', () => {
  it('delivers in order, drops duplicates, detects gaps', () => {
    const s = new Session(limits);
    expect([1, 2, 2, 1, 3].map((n) => s.in.accept(n))).toEqual(['deliver', 'deliver', 'duplicate', 'duplicate', 'deliver']);
    expect(s.in.accept(5)).toBe('gap');
    expect(s.in.last).toBe(3);
    expect(s.in.accept(4)).toBe('deliver');
  });
});

describe('Session rebase (gap)', () => {
  function connected() {
    const s = new Session(limits);
    s.attach(welcome());
    s.in.accept(1);
    return s;
  }

  it('re-queues what the server never processed, renumbered from 1, and loses the unanswered processed ones', () => {
    const s = connected();
    const req = queue(s, FrameCode.request, ['m', 1]); // 1: processed, answer lost
    const sent = queue(s, FrameCode.send, ['n', 1]); // 2: processed
    const pub = queue(s, FrameCode.publish, ['room', 'e', 1]); // 3: never processed
    const later = queue(s, FrameCode.send, ['n', 2]); // 4: never processed
    const result = s.rebase(2, []);
    expect(result).toEqual({ resent: 2, lost: 1 });
    expect(req.r.outcome).toEqual({ fail: 'session_lost' });
    expect(sent.r.outcome).toEqual({ ok: undefined });
    expect(pub.r.done).toBe(false);
    expect(later.r.done).toBe(false);
    expect(s.sid).toBeNull();
    expect(s.in.last).toBe(0);
    expect(s.frames(0)).toEqual(['[3,1,"room","e",1]', '[4,2,"n",2]']);
    // the re-queued publish now answers to its new number
    s.answer(1, null);
    expect(pub.r.outcome).toEqual({ ok: null });
  });

  it('loses a processed request even if it was acked long ago, but not one already timed out', () => {
    const s = connected();
    const old = queue(s, FrameCode.request, ['m', 1]);
    const timedOut = queue(s, FrameCode.request, ['m', 2]);
    timedOut.r.fail(new WirehopError('timeout'));
    s.ack(2);
    expect(s.rebase(2, [])).toEqual({ resent: 0, lost: 1 });
    expect(old.r.outcome).toEqual({ fail: 'session_lost' });
    expect(timedOut.r.outcome).toEqual({ fail: 'timeout' });
  });

  it('without an ack, rejects every unacked frame that was sent with session_lost', () => {
    const s = connected();
    const a = queue(s, FrameCode.send, ['n', 1]);
    s.ack(1);
    const b = queue(s, FrameCode.send, ['n', 2]);
    const c = queue(s, FrameCode.request, ['m', 3]);
    s.frames(1); // both handed to a transport
    expect(s.rebase(undefined, [])).toEqual({ resent: 0, lost: 2 });
    expect(a.r.outcome).toEqual({ ok: undefined });
    expect(b.r.outcome).toEqual({ fail: 'session_lost' });
    expect(c.r.outcome).toEqual({ fail: 'session_lost' });
    expect(s.out.size).toBe(0);
  });

  it('without an ack, sends again in the new session what never left the client', () => {
    const s = connected();
    const a = queue(s, FrameCode.send, ['n', 1]);
    const b = queue(s, FrameCode.request, ['m', 2]);
    s.frames(0, 1); // only the first was handed to a transport
    const c = queue(s, FrameCode.send, ['n', 3]); // queued while no transport carried the session
    expect(s.rebase(undefined, [])).toEqual({ resent: 2, lost: 1 });
    expect(a.r.outcome).toEqual({ fail: 'session_lost' });
    expect(b.r.outcome).toBeUndefined();
    expect(c.r.outcome).toBeUndefined();
    expect(s.frames(0)).toEqual(['[5,1,"m",2]', '[4,2,"n",3]']);
    expect(s.sent).toBe(2); // frames() just handed them out again, numbered in the new session
  });

  it('clamps an ack beyond what was sent, and one below an earlier ack', () => {
    const s = connected();
    const a = queue(s, FrameCode.send, ['n', 1]);
    expect(s.rebase(50, [])).toEqual({ resent: 0, lost: 0 });
    expect(a.r.outcome).toEqual({ ok: undefined });
    const t = connected();
    queue(t, FrameCode.send, ['n', 1]);
    queue(t, FrameCode.send, ['n', 2]);
    t.ack(2);
    expect(t.rebase(0, [])).toEqual({ resent: 0, lost: 0 });
  });

  it('re-subscribes confirmed channels first, then replays unprocessed frames', () => {
    const s = connected();
    const sub = queue(s, FrameCode.subscribe, ['news'], 'news'); // 1
    s.answer(sub.seq, { presence: false });
    s.ack(1);
    queue(s, FrameCode.publish, ['news', 'e', 1]); // 2: never processed
    const news = channel('news', true);
    const idle = channel('idle', false);
    expect(s.rebase(1, [news, idle])).toEqual({ resent: 1, lost: 0 });
    expect(news.made).toEqual([[]]);
    expect(idle.made).toEqual([]);
    expect(s.frames(0)).toEqual(['[1,1,"news"]', '[3,2,"news","e",1]']);
  });

  it('carries a processed subscribe whose answer was lost onto the re-subscription', () => {
    const s = connected();
    const sub = queue(s, FrameCode.subscribe, ['news'], 'news');
    const news = channel('news', true);
    expect(s.rebase(1, [news])).toEqual({ resent: 0, lost: 0 });
    expect(news.made).toEqual([[sub.r]]);
    s.answer(1, { presence: true });
    expect(sub.r.outcome).toEqual({ ok: { presence: true } });
  });

  it('does not duplicate a subscribe the server never processed: it is simply resent', () => {
    const s = connected();
    queue(s, FrameCode.subscribe, ['news'], 'news');
    const news = channel('news', true);
    expect(s.rebase(0, [news])).toEqual({ resent: 1, lost: 0 });
    expect(news.made).toEqual([]);
    expect(s.frames(0)).toEqual(['[1,1,"news"]']);
  });

  it('rebuilds a subscription that an unprocessed unsubscribe will undo, keeping the order', () => {
    const s = connected();
    const sub = queue(s, FrameCode.subscribe, ['news'], 'news'); // 1: processed
    s.answer(sub.seq, { presence: false });
    queue(s, FrameCode.publish, ['news', 'e', 1]); // 2: never processed
    const unsub = queue(s, FrameCode.unsubscribe, ['news'], 'news'); // 3: never processed
    const news = channel('news', false);
    expect(s.rebase(1, [news])).toEqual({ resent: 2, lost: 0 });
    expect(s.frames(0)).toEqual(['[1,1,"news"]', '[3,2,"news","e",1]', '[2,3,"news"]']);
    expect(unsub.r.done).toBe(false);
  });

  it('settles a processed unsubscribe whose answer was lost: the new session holds nothing', () => {
    const s = connected();
    const unsub = queue(s, FrameCode.unsubscribe, ['news'], 'news');
    expect(s.rebase(1, [channel('news', false)])).toEqual({ resent: 0, lost: 0 });
    expect(unsub.r.outcome).toEqual({ ok: null });
    expect(s.frames(0)).toEqual([]);
  });

  it('without an ack, re-subscribes exactly the channels that are wanted', () => {
    const s = connected();
    const sub = queue(s, FrameCode.subscribe, ['a'], 'a');
    const gone = queue(s, FrameCode.subscribe, ['b'], 'b');
    const unsub = queue(s, FrameCode.unsubscribe, ['b'], 'b');
    s.frames(0);
    const a = channel('a', true);
    const b = channel('b', false);
    const c = channel('c', true);
    expect(s.rebase(undefined, [a, b, c])).toEqual({ resent: 0, lost: 1 });
    expect(a.made).toEqual([[sub.r]]);
    expect(b.made).toEqual([]);
    expect(c.made).toEqual([[]]);
    expect(gone.r.outcome).toEqual({ fail: 'session_lost' });
    expect(unsub.r.outcome).toEqual({ ok: null });
    expect(s.frames(0)).toEqual(['[1,1,"a"]', '[1,2,"c"]']);
  });

  it('rejects with queue_full what no longer fits', () => {
    const s = new Session({ maxQueue: 1, maxMessageBytes: 1000 });
    s.attach(welcome());
    const pub = queue(s, FrameCode.publish, ['x', 'e', 1]);
    const sub = channel('x', true);
    s.rebase(0, [sub]);
    expect(pub.r.outcome).toEqual({ fail: 'queue_full' });
  });

  it('rejects everything on close', () => {
    const s = connected();
    const a = queue(s, FrameCode.request, ['m', 1]);
    s.ack(1);
    const b = queue(s, FrameCode.send, ['n', 1]);
    s.close(new WirehopError('client_closed'));
    expect(a.r.outcome).toEqual({ fail: 'client_closed' });
    expect(b.r.outcome).toEqual({ fail: 'client_closed' });
    expect(s.out.size).toBe(0);
    expect(s.waiting.size).toBe(0);
  });
});

describe('checkName', () => {
  it('accepts protocol names and explains refusals', () => {
    expect(checkName('channel', 'room:1')).toBeUndefined();
    expect(checkName('event', 'message')).toBeUndefined();
    expect(checkName('channel', '')?.code).toBe('bad_frame');
    expect(checkName('event', 'a\nb')?.code).toBe('bad_frame');
    expect(checkName('method', 'x'.repeat(129))?.code).toBe('bad_frame');
    expect(checkName('channel', 'x'.repeat(256))).toBeUndefined();
    expect(checkName('channel', 42 as unknown as string)?.code).toBe('bad_frame');
  });
});

describe('item', () => {
  it('refuses data that is not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => item(FrameCode.send, ['n', cyclic], recorder())).toThrow(WirehopError);
  });

  it('stores the fields as a tail that renumbering does not touch', () => {
    const it: Item = item(FrameCode.request, ['m', { a: [1] }], recorder());
    expect(it.tail).toBe('"m",{"a":[1]}]');
  });
});
