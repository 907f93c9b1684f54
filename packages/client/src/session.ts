/**
 * The client's half of a session, free of IO and timers: the outbox (a SendWindow of reliable
 * frames, kept until acked and resent after every reconnect), the inbox (a ReceiveWindow that
 * delivers each server frame once, in order), the frames awaiting an answer, and the rebase of all
 * of it into a new session when the old one ended (protocol.md §3, "gap").
 */
import {
  Defaults,
  FrameCode,
  ReceiveWindow,
  SendWindow,
  WirehopError,
  encodeTail,
  encodeWithTail,
  hello,
  isValidName,
  utf8Length,
  type HelloFrame,
  type Json,
  type WelcomeFrame,
} from '@wirehop/protocol';
import type { Reply } from './requests.js';

/**
 * A reliable client frame, stored without its sequence number so that a new session can renumber
 * it; the frame is built with encodeWithTail when it is sent.
 */
export interface Item {
  code: FrameCode;
  /** encodeTail() of the fields after the sequence number. */
  tail: string;
  /** Subscribe/unsubscribe only: the channel, to rebuild subscriptions after a gap. */
  ch?: string;
  /** Settled by the server's answer, or by the ack for `send`. */
  reply: Reply;
}

/** An outbox item. Throws WirehopError('bad_frame') if the fields are not JSON-serializable. */
export function item(code: FrameCode, fields: unknown[], reply: Reply, ch?: string): Item {
  return { code, tail: encodeTail(fields), reply, ch };
}

/**
 * Checks a name before it is queued: an invalid one would make the server refuse the frame and drop
 * the connection, and the outbox would send it again after every reconnect. The rule is the
 * protocol's own (isValidName, which the decoder applies), so it lives in one place.
 */
export function checkName(kind: 'channel' | 'event' | 'method', name: string): WirehopError | undefined {
  const channel = kind === 'channel';
  return isValidName(name, channel ? 'channel' : 'name')
    ? undefined
    : new WirehopError('bad_frame', `invalid ${kind} name ${JSON.stringify(name)}: 1 to ${channel ? Defaults.maxChannelLength : Defaults.maxNameLength} characters, no control characters`);
}

/** What a rebase needs from each channel. */
export interface Resubscriber {
  readonly name: string;
  /** The application wants it subscribed (its last call was subscribe() and it was not refused). */
  readonly want: boolean;
  /** A subscribe item whose answer also settles `carried`: earlier subscribes whose answer was lost. */
  resubscribe(carried: Reply[]): Item;
}

/** Limits of a {@link Session}; the client fills them from its options. */
export interface SessionLimits {
  /** Most frames queued or awaiting ack. */
  maxQueue: number;
  /** Largest encoded frame, until WELCOME says otherwise. */
  maxMessageBytes: number;
}

/**
 * A frame that a session the client gave up on may have processed without harm: it changes nothing
 * but that session's own subscriptions (subscribe, unsubscribe), or only reads (presence, history).
 * Publish, send and request, codes 3 to 5, run the application's code.
 */
const repeatable = (code: FrameCode) => code < FrameCode.publish || code > FrameCode.request;

/** One session, renewed in place after a gap; `sid` is null until a WELCOME created it (or claim()). */
export class Session {
  sid: string | null = null;
  /** No WELCOME attached this session yet: the next one creates it. */
  created = true;
  token: string | undefined;
  maxMessageBytes: number;
  readonly out: SendWindow<Item>;
  in = new ReceiveWindow();
  /** Frames awaiting an answer, by client seq. They stay after their ack: the answer comes later. */
  readonly waiting = new Map<number, Item>();
  /** The highest seq ever handed to a transport: those above it never left the client. */
  sent = 0;

  constructor(limits: SessionLimits) {
    this.maxMessageBytes = limits.maxMessageBytes;
    this.out = new SendWindow({ maxFrames: limits.maxQueue, maxBytes: Infinity });
  }

  /** HELLO for the next transport: resume if there is a session, else create one. */
  hello(auth?: Json): HelloFrame {
    // The resume point travels in HELLO (or Last-Event-ID), which acks everything before it.
    if (this.sid) return hello({ sid: this.sid, token: this.token, ack: this.in.takeAck() });
    return hello(auth === undefined ? {} : { auth });
  }

  /** A WELCOME arrived: adopt the session and drop what the server already has. */
  attach(welcome: WelcomeFrame): WirehopError | undefined {
    if (!this.sid) {
      if (!welcome.token) return new WirehopError('bad_frame', 'WELCOME of a new session without a resume token');
      this.claim(welcome.sid, welcome.token);
    }
    this.created = false;
    this.maxMessageBytes = welcome.maxMessageBytes;
    return this.serverAck(welcome.ack, 'WELCOME ack');
  }

  /**
   * The client holds on to session `sid` before its first WELCOME: a new SSE session whose
   * POST /session body carried frames (TransportHandlers.claim). Retries resume it.
   */
  claim(sid: string, token: string): void {
    this.sid = sid;
    this.token = token;
  }

  /** Queues an item as the next sequence number: returns the number, or why it was refused. */
  push(it: Item): number | WirehopError {
    const seq = this.out.nextSeq;
    // `[code,seq,` + tail, counted without building the string.
    const bytes = utf8Length(it.tail) + String(it.code).length + String(seq).length + 3;
    if (bytes > this.maxMessageBytes) return new WirehopError('message_too_large', `the frame has ${bytes} bytes, over maxMessageBytes (${this.maxMessageBytes})`);
    if (!this.out.push(it, 0)) return new WirehopError('queue_full', `the outbox holds maxQueue (${this.out.size}) messages`);
    if (it.code !== FrameCode.send) this.waiting.set(seq, it);
    return seq;
  }

  /**
   * The encoded frames after `seq`, oldest first, for a transport to (re)send; at most `max`.
   * `early`: they go behind a HELLO before WELCOME (protocol.md §4, §5). For a new session that is
   * only the leading run of repeatable ones: if the attempt fails before the client learns the
   * session, it cannot tell whether the server processed them, and sends them again in another.
   * A resume takes them all: the server drops by seq what it has. `bytes`: what they may fill, a
   * newline after each; those taken count as sent, so a bound the caller applies later would not do.
   */
  frames(after: number, max = Infinity, early = false, bytes = Infinity): string[] {
    const frames: string[] = [];
    for (const [seq, it] of this.out.after(after)) {
      if (frames.length === max || (early && !this.sid && !repeatable(it.code))) break;
      const frame = encodeWithTail(it.code, seq, it.tail);
      if (bytes < Infinity && (bytes -= utf8Length(frame) + 1) < 0) break;
      frames.push(frame);
      if (seq > this.sent) this.sent = seq;
    }
    return frames;
  }

  /** The server has every frame ≤ n: free them and settle sends. False if n was never sent. */
  ack(n: number): boolean {
    if (n > this.out.lastSeq) return false;
    for (const [seq, it] of this.out.after(this.out.acked)) {
      if (seq > n) break;
      if (it.code === FrameCode.send) it.reply.ok(undefined);
    }
    return this.out.ack(n);
  }

  /** ack() of an ack from the server (`what`); a bad one is an error that ends the link. */
  serverAck(n: number, what = 'ack'): WirehopError | undefined {
    return this.ack(n) ? undefined : new WirehopError('bad_ack', `${what} ${n} names a frame never sent (last ${this.out.lastSeq})`);
  }

  /**
   * A reply or replyError to frame `re`. It acks `re` and everything before (protocol.md §4): the
   * server hands frames to the application in order. Unknown or late answers are otherwise ignored.
   */
  answer(re: number, data: unknown, error?: WirehopError): void {
    this.ack(re);
    const it = this.waiting.get(re);
    if (!it) return;
    this.waiting.delete(re);
    if (error) it.reply.fail(error);
    else it.reply.ok(data);
  }

  /** The caller gave up (timeout): its answer would be ignored, so stop waiting for it. */
  forget(reply: Reply): void {
    for (const [seq, it] of this.waiting) if (it.reply === reply) return void this.waiting.delete(seq);
  }

  /**
   * The session ended (protocol.md §3): move to a new one (sid null until the next WELCOME).
   *
   * `ack` is the server's last processed seq from BYE or the error body. Frames after it were never
   * processed and are re-queued in order (`resent`). Frames up to it were processed but their answer
   * is lost: they reject with `session_lost` (`lost`), except subscriptions, which are rebuilt.
   * Without an ack, what may have reached the server cannot be trusted either way and rejects with
   * `session_lost`; what never left the client (above `sent`) is sent in the new session.
   *
   * Subscriptions: first the ones the server held as of `ack` are re-created, then the unprocessed
   * frames replay on top, so the new session ends where the old one would have. Without an ack,
   * every channel the application wants is re-subscribed.
   */
  rebase(ack: number | undefined, channels: Iterable<Resubscriber>): { resent: number; lost: number } {
    const known = ack !== undefined;
    this.ack(known ? Math.min(Math.max(ack, this.out.acked), this.out.lastSeq) : this.out.acked);
    const maybeSent = Math.max(0, this.sent - this.out.acked);
    let rest = this.out.drain();
    const again = new Set(rest);
    const answerless = [...this.waiting.values()].filter((it) => !again.has(it));
    this.waiting.clear();
    if (!known) {
      answerless.push(...rest.slice(0, maybeSent));
      rest = rest.slice(maybeSent);
    }

    let lost = 0;
    const lose = (reply: Reply) => {
      if (reply.done) return;
      lost++;
      reply.fail(new WirehopError('session_lost', 'the session ended before this was answered'));
    };
    const carried = new Map<string, Reply[]>();
    for (const it of answerless) {
      if (it.code === FrameCode.subscribe) carried.set(it.ch!, [...(carried.get(it.ch!) ?? []), it.reply]);
      else if (it.code === FrameCode.unsubscribe) it.reply.ok(null); // a new session has no subscriptions
      else lose(it.reply);
    }
    const firstOp = new Map<string, FrameCode>();
    for (const it of rest) if (it.ch !== undefined && !firstOp.has(it.ch)) firstOp.set(it.ch, it.code);

    const queue: Item[] = [];
    for (const c of channels) {
      const first = firstOp.get(c.name);
      const replies = carried.get(c.name) ?? [];
      carried.delete(c.name);
      // Subscribed as of `ack` ⇔ the next queued op undoes it, or none is queued and it is wanted.
      if (first === FrameCode.unsubscribe || (first === undefined && c.want)) queue.push(c.resubscribe(replies));
      else replies.forEach(lose);
    }
    for (const replies of carried.values()) replies.forEach(lose);

    this.sid = null;
    this.token = undefined;
    this.created = true;
    this.sent = 0;
    this.in = new ReceiveWindow();
    for (const it of [...queue, ...rest]) {
      const seq = this.push(it);
      if (typeof seq !== 'number') it.reply.fail(seq);
    }
    return { resent: rest.length, lost };
  }

  /** Rejects everything queued or awaiting an answer. */
  close(error: WirehopError): void {
    for (const it of this.waiting.values()) it.reply.fail(error);
    for (const it of this.out.drain()) it.reply.fail(error);
    this.waiting.clear();
  }
}
