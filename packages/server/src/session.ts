/**
 * One session: the server half of protocol.md §1. Outbound, a SendWindow numbers reliable frames
 * and keeps them until the client acks them (the replay buffer); inbound, a ReceiveWindow drops
 * duplicates and detects gaps, and a queue hands frames to the dispatcher in sequence order.
 * It writes to at most one Downstream at a time and knows nothing of which transport that is.
 * No timers here: acks go through the shared AckScheduler, heartbeats and TTL through the sweep.
 */
import {
  ErrorCodes,
  ErrorMeanings,
  FrameCode,
  ReceiveWindow,
  SendWindow,
  type SendWindowLimits,
  encodeFrame,
  encodeTail,
  encodeWithTail,
  isErrorCode,
  type ClientReliableFrame,
  type ErrorCode,
} from '@wirehop/protocol';
import type { ResolvedOptions, ServerLimits } from './options.js';
import { assertNames, assertTailSize } from './outgoing.js';
import { PostOrder, type Turn } from './post-order.js';
import type { Downstream } from './transports/transport.js';
import type { Session, UserBase } from './types.js';

/** What a session needs from the server around it. */
export interface SessionHost<U extends UserBase> {
  readonly options: ResolvedOptions<U>;
  /** Runs one client frame. A promise holds back later frames of this session until it settles. */
  dispatch(session: ServerSession<U>, frame: ClientReliableFrame): void | PromiseLike<void>;
  /** processed moved past what was last acked: send an ACK now or soon. */
  scheduleAck(session: ServerSession<U>): void;
  /** The session is over (already detached): forget it, tombstone it, tell listeners. */
  ended(session: ServerSession<U>, code: ErrorCode, message: string): void;
  onError(error: unknown, phase: string, session?: ServerSession<U>): void;
}

/** Outcome of a client reliable frame arriving. */
export type Arrival = 'accepted' | 'duplicate' | 'out_of_order' | 'overloaded' | 'closed';

type State = 'open' | 'ending' | 'ended';

/** What moves with a session to another server process (nodes.ts). JSON all through. */
export interface SessionState {
  id: string;
  token: string;
  user: UserBase;
  data?: Record<string, unknown>;
  /** Last client sequence number processed. */
  processed: number;
  /** Last server sequence number the client acked; `frames` are the ones after it. */
  acked: number;
  frames: string[];
}

/**
 * A frame in the replay buffer, without its sequence number: an EVENT as its tail alone, anything
 * else as [code, tail]. A publication's tail is encoded once and shared by every subscriber, so
 * holding it costs a session one reference; holding the whole frame text would cost every session
 * its own copy of the payload (V8 flattens the concatenation when it is written), kept until the
 * ack and so promoted out of the young generation: most of the garbage collector's work in a
 * fan-out. The text is made when written, and dies young.
 */
type Held = string | readonly [FrameCode, string];

function heldFrame(held: Held, seq: number): string {
  return typeof held === 'string' ? encodeWithTail(FrameCode.event, seq, held) : encodeWithTail(held[0], seq, held[1]);
}

/** The Held form of a frame's text (`[code,seq,tail`), for a session that moved here with its frames. */
function heldOf(text: string): Held {
  const first = text.indexOf(',');
  const code = Number(text.slice(1, first)) as FrameCode;
  const tail = text.slice(text.indexOf(',', first + 1) + 1);
  return code === FrameCode.event ? tail : [code, tail];
}

/** The length of encodeWithTail(code, seq, tail), without building it: what the replay limits count. */
function frameLength(code: FrameCode, seq: number, tail: string): number {
  return tail.length + 3 + digits(code) + digits(seq);
}

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** One limits object per server for every session's replay window, not one per session. */
const sharedLimits = new WeakMap<ServerLimits, SendWindowLimits>();
function windowLimits(limits: ServerLimits): SendWindowLimits {
  let shared = sharedLimits.get(limits);
  if (!shared) sharedLimits.set(limits, (shared = { maxFrames: limits.replayBufferFrames, maxBytes: limits.replayBufferBytes }));
  return shared;
}

/** Application error codes and messages in replyError are cut to these lengths (a message must stay small). */
const MAX_CODE_LENGTH = 128;
const MAX_ERROR_MESSAGE_LENGTH = 1024;

export class ServerSession<U extends UserBase = UserBase> implements Session<U> {
  /** Made on first use: most sessions never store anything, and idle sessions are what memory is spent on. */
  private appData: Record<string, unknown> | undefined;
  get data(): Record<string, unknown> {
    return (this.appData ??= {});
  }
  readonly channels = new Set<string>();
  /** Duplicate client frames dropped (replays, or the same frame over two transports). */
  duplicates = 0;
  /** Last client sequence number dispatched: what every ACK, WELCOME and BYE reports. */
  processed = 0;
  /** Last value told to the client in an ACK, WELCOME or POST answer. */
  ackSent = 0;
  /** Time anything was last heard from the client (any WebSocket message, any POST). */
  lastHeard: number;
  /** Time the last downstream went away; 0 while attached. The TTL runs from here. */
  detachedAt: number;
  /** Time of the last heartbeat written to the current downstream. */
  lastBeat = 0;

  /** Frames until acked, held as their seq-less tail (see Held). */
  private readonly out: SendWindow<Held>;
  private readonly inbound = new ReceiveWindow();
  /** Client frames waiting for a pending hook; made when the first frame arrives. */
  private queue: ClientReliableFrame[] | undefined;
  private busy = false;
  /** The seq of the frame handed to the application whose dispatch has not returned or settled yet. */
  private dispatching = 0;
  /** Request and message handlers still running (limits.handlersInFlight). */
  private handlers = 0;
  /** The last client seq handed to the application: processed, or in dispatch now. */
  private get handed(): number {
    return Math.max(this.processed, this.dispatching);
  }
  private state: State = 'open';
  private downstream: Downstream | null = null;
  /** Highest reliable seq written to the current downstream (its SSE `id:`). */
  private written = 0;
  private waitingForDrain = false;
  /** >0 while a POST body is processed: its answer carries the ack, so none is scheduled meanwhile. */
  private batches = 0;
  /** Set once the session moved to another node: frames queued here later (late replies) go there. */
  private forward: ((code: FrameCode, tail: string) => void) | undefined;
  /** Waiting for a pending hook to settle (see idle()). */
  private idleWaiters: Array<() => void> | undefined;
  /** POST bodies waiting for the ones they overtook; made when the first one has to. */
  private postOrder: PostOrder | undefined;

  constructor(
    readonly id: string,
    readonly token: string,
    readonly user: U,
    private readonly host: SessionHost<U>,
    now: number,
  ) {
    this.out = new SendWindow(windowLimits(host.options.limits));
    this.lastHeard = now;
    this.detachedAt = now;
  }

  get transport(): 'websocket' | 'sse' | null {
    return this.downstream?.kind ?? null;
  }
  /** True until the session starts ending; frames are neither accepted nor queued after. */
  get isOpen(): boolean {
    return this.state === 'open';
  }
  get attached(): Downstream | null {
    return this.downstream;
  }
  /** Reliable frames held for replay (unacked), and their size in UTF-16 code units. */
  get held(): { frames: number; units: number; lastSeq: number; acked: number } {
    return { frames: this.out.size, units: this.out.bytes, lastSeq: this.out.lastSeq, acked: this.out.acked };
  }

  // ---- public Session API ------------------------------------------------------------------

  /** Throws WirehopError (bad_frame, message_too_large) for an invalid name, non-JSON data or an oversize frame. */
  send(event: string, data?: unknown): void {
    const limits = this.host.options.limits;
    assertNames(limits, event);
    const tail = encodeTail([event, data ?? null]);
    assertTailSize(limits, tail);
    this.pushTail(FrameCode.message, tail);
  }

  close(reason?: string): void {
    this.end('session_closed', reason ?? 'the application closed the session');
  }

  // ---- outbound ----------------------------------------------------------------------------

  /**
   * Queues a reliable frame `[code, <next seq>, ...tail`. False if the session is not open or the
   * replay buffer is full; the latter ends the session with replay_overflow (protocol.md §7) on
   * a microtask, so a fan-out loop that caused it is not re-entered.
   */
  pushTail(code: FrameCode, tail: string): boolean {
    if (this.state !== 'open') {
      if (!this.forward) return false;
      this.forward(code, tail);
      return true;
    }
    const held: Held = code === FrameCode.event ? tail : [code, tail];
    if (this.out.push(held, frameLength(code, this.out.nextSeq, tail)) === 0) {
      this.state = 'ending';
      const { replayBufferFrames, replayBufferBytes } = this.host.options.limits;
      const message = `over ${replayBufferFrames} frames or ${replayBufferBytes} bytes unacknowledged (replay buffer full)`;
      queueMicrotask(() => this.end('replay_overflow', message));
      return false;
    }
    this.pump();
    return true;
  }

  /**
   * Room for one more recovered frame of `units` (Subscriber.roomFor): half the replay buffer, in
   * frames and in units. The other half is for what is live meanwhile, until the client acks.
   * SendWindow.fits at half the limits, written out: a parameter there would cost the browser
   * bundle, which carries SendWindow, for a server-only need.
   */
  roomFor(units: number): boolean {
    const { replayBufferFrames, replayBufferBytes } = this.host.options.limits;
    return (this.out.size + 1) * 2 <= replayBufferFrames && (this.out.bytes + units) * 2 <= replayBufferBytes;
  }

  /** A success answer to client frame `re`. */
  reply(re: number, data: unknown): boolean {
    return this.answer(re, FrameCode.reply, encodeTail([re, data ?? null]));
  }

  /** A reply carrying application data: throws WirehopError if it is not JSON or over maxMessageBytes. */
  checkedReply(re: number, data: unknown): boolean {
    const tail = encodeTail([re, data ?? null]);
    assertTailSize(this.host.options.limits, tail);
    return this.answer(re, FrameCode.reply, tail);
  }

  /** A failure answer to client frame `re`. Code and message are cut short so an error can always be sent. */
  replyError(re: number, code: string, message: string): boolean {
    return this.answer(re, FrameCode.replyError, encodeTail([re, String(code).slice(0, MAX_CODE_LENGTH), String(message).slice(0, MAX_ERROR_MESSAGE_LENGTH)]));
  }

  /**
   * An answer acks client frames up to `re` (protocol.md §4): frames are handed to the application
   * in order, and one in dispatch counts as processed, so everything up to the one answered was. A
   * subscribe or request then costs no ACK frame of its own unless more came in meanwhile.
   */
  private answer(re: number, code: FrameCode, tail: string): boolean {
    if (re > this.ackSent) this.ackSent = Math.min(re, this.handed);
    return this.pushTail(code, tail);
  }

  /** Writes held frames to the downstream until caught up or above highWaterMarkBytes. */
  private pump(): void {
    const d = this.downstream;
    if (!d || this.waitingForDrain) return;
    const hwm = this.host.options.limits.highWaterMarkBytes;
    while (this.written < this.out.lastSeq) {
      if (!d.open) return;
      if (d.buffered() > hwm) {
        // Slow reader: stop writing; frames wait in the replay buffer (bounded) until 'drain'.
        this.waitingForDrain = true;
        d.whenDrained(() => {
          this.waitingForDrain = false;
          if (this.downstream === d) this.pump();
        });
        return;
      }
      const seq = this.written + 1;
      const held = this.out.get(seq);
      this.written = seq;
      if (held !== undefined) d.write(heldFrame(held, seq), seq);
    }
  }

  /** Writes a control frame (ACK, PING, PONG, ERROR) to the current downstream, if any. */
  writeControl(encodedFrame: string): void {
    const d = this.downstream;
    if (d?.open) d.write(encodedFrame, this.written);
  }

  /** Sends an ACK of everything processed, if there is anything new and somewhere to send it. */
  flushAck(): void {
    if (this.processed === this.ackSent || !this.downstream?.open) return;
    this.ackSent = this.processed;
    this.writeControl(encodeFrame({ type: 'ack', ack: this.processed }));
  }

  /** Marks everything processed as acked and returns the ack (POST answers, WELCOME). */
  takeAck(): number {
    this.ackSent = this.processed;
    return this.processed;
  }

  // ---- attach / detach ---------------------------------------------------------------------

  /**
   * Where a replay for resume point `ack` starts after (protocol.md §3): `ack`, or what the client
   * acked if that is more; undefined if `ack` is ahead of the last frame sent (bad_ack). A resume
   * point below its own ack is stale, not a loss: the client acked those frames, so it has them (it
   * resumed on a new transport while it went on acking on the old one, protocol.md §6), and they
   * are freed here.
   */
  resumeFrom(ack: number): number | undefined {
    return ack > this.out.lastSeq ? undefined : Math.max(ack, this.out.acked);
  }

  /**
   * Makes `d` the downstream: supersedes the previous one, writes WELCOME, replays every frame
   * after the client's `ack`, then streams live. `ack` comes from resumeFrom.
   */
  attach(d: Downstream, ack: number, welcome: string, now: number): void {
    const old = this.downstream;
    if (old && old !== d) {
      this.downstream = null;
      old.write(encodeFrame({ type: 'error', code: 'superseded', message: ErrorMeanings.superseded }), this.written);
      old.close(ErrorCodes.superseded.close, ErrorMeanings.superseded);
    }
    this.out.ack(ack);
    this.downstream = d;
    this.written = ack;
    this.waitingForDrain = false;
    this.lastHeard = now;
    this.lastBeat = now;
    this.detachedAt = 0;
    d.write(welcome, this.written);
    this.pump();
  }

  /** `d` went away. Ignored unless it is the current downstream. The TTL clock starts now. */
  detach(d: Downstream, now: number): void {
    if (this.downstream !== d) return;
    this.downstream = null;
    this.waitingForDrain = false;
    this.detachedAt = now;
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** Last client sequence number accepted (dispatched or waiting in the queue). */
  get processedOrQueued(): number {
    return this.inbound.last;
  }

  /** The client acked server frames ≤ n. False for an ack of a frame never sent (bad_ack). */
  onAck(n: number): boolean {
    if (!this.out.ack(n)) return false;
    // Frames the client has (e.g. from a previous transport) need not be written again.
    if (n > this.written) this.written = n;
    return true;
  }

  /** A client reliable frame arrived: dedupe, order, queue for dispatch. */
  receive(frame: ClientReliableFrame): Arrival {
    if (this.state !== 'open') return 'closed';
    const queue = (this.queue ??= []);
    if (queue.length >= this.host.options.limits.maxPendingFrames && frame.seq > this.inbound.last) return 'overloaded';
    const verdict = this.inbound.accept(frame.seq);
    if (verdict === 'duplicate') {
      this.duplicates++;
      return 'duplicate';
    }
    if (verdict === 'gap') return 'out_of_order';
    queue.push(frame);
    this.postOrder?.received(this.inbound.last);
    this.drain();
    return 'accepted';
  }

  /**
   * For a POST body whose first reliable frame is `after + 1`: 'go' once the frames before it were
   * received, at once if they were. Bodies overtake each other on their way (post-order.ts).
   */
  turnAfter(after: number): Turn | Promise<Turn> {
    if (this.inbound.last >= after) return 'go';
    if (this.state !== 'open') return 'closed';
    const { postsInFlight, postWaitMs } = this.host.options.limits;
    // One body is the one being applied: the others may wait.
    return (this.postOrder ??= new PostOrder(postsInFlight - 1, postWaitMs)).wait(after);
  }

  /**
   * Dispatches queued frames in order; a pending promise (authorize/publish hook) holds the rest
   * back, and so does a request or message while limits.handlersInFlight handlers run. Such a frame
   * is not handed to the application yet: no ack or BYE counts it, so it is never lost.
   */
  private drain(): void {
    const queue = this.queue;
    while (queue && !this.busy && this.state === 'open' && queue.length > 0) {
      const type = queue[0]!.type;
      if ((type === 'request' || type === 'send') && this.handlers >= this.host.options.limits.handlersInFlight) return;
      const frame = queue.shift() as ClientReliableFrame;
      let pending: void | PromiseLike<void> = undefined;
      this.dispatching = frame.seq;
      try {
        pending = this.host.dispatch(this, frame);
      } catch (error) {
        this.host.onError(error, 'dispatch', this);
      }
      if (pending && typeof pending.then === 'function') {
        this.busy = true;
        const done = () => {
          this.release();
          this.processedUpTo(frame.seq);
          this.drain();
        };
        pending.then(done, (error: unknown) => {
          this.host.onError(error, 'dispatch', this);
          done();
        });
        return;
      }
      this.processedUpTo(frame.seq);
    }
  }

  /** A request or message handler that has not settled yet: counted until it does (see drain()). */
  running(pending: PromiseLike<unknown>): void {
    this.handlers++;
    const done = () => {
      this.handlers--;
      this.drain();
    };
    pending.then(done, done);
  }

  private processedUpTo(seq: number): void {
    this.dispatching = 0;
    if (this.state === 'ended') return;
    this.processed = seq;
    if (this.batches === 0) this.host.scheduleAck(this);
  }

  /** Starts processing a POST body: acks are answered in the POST, not scheduled. */
  beginBatch(): void {
    this.batches++;
  }

  /** Ends a POST body; returns the ack for its answer. Frames still pending are acked later. */
  endBatch(): number {
    this.batches--;
    return this.takeAck();
  }

  // ---- moving to another node --------------------------------------------------------------

  /** Resolves once no hook holds frames back: nothing half-dispatched, so the state can move. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => (this.idleWaiters ??= []).push(resolve));
  }

  /** True while a hook (or hold()) holds frames back. */
  get holding(): boolean {
    return this.busy;
  }

  /**
   * Holds frames back, and a move away, until `work` settles: a session that moved here first
   * re-subscribes its channels. For a session with nothing pending (one just restored).
   */
  async hold(work: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    try {
      await work();
    } finally {
      this.release();
      this.drain();
    }
  }

  private release(): void {
    this.busy = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = undefined;
    if (waiters) for (const w of waiters) w();
  }

  exportState(): SessionState {
    const frames: string[] = [];
    for (const [seq, held] of this.out.after(this.out.acked)) frames.push(heldFrame(held, seq));
    const state: SessionState = { id: this.id, token: this.token, user: this.user, processed: this.processed, acked: this.out.acked, frames };
    if (this.appData) state.data = this.appData;
    return state;
  }

  /**
   * The session now lives on another node: no BYE (it is not over), the downstream is closed as
   * superseded, frames queued here from now on (a request handler answering late) go to `forward`.
   */
  moveOut(forward: (code: FrameCode, tail: string) => void): void {
    if (!this.stop()) return;
    this.forward = forward;
    this.lastWord(encodeFrame({ type: 'error', code: 'superseded', message: 'the session moved to another server' }), ErrorCodes.superseded.close, ErrorMeanings.superseded);
  }

  /**
   * Drops the downstream, not the session: ERROR `code` says why, the downstream closes with the
   * code's close code, and the session waits for the client to resume (its TTL clock runs). For a
   * dead link (heartbeat_timeout), and for a drain (server_draining, wirehop.ts), where the resume
   * reaches another node: what is queued for the session meanwhile, and what its POSTs bring,
   * goes with it when that node takes it over.
   */
  letGo(code: ErrorCode, message: string): void {
    this.lastWord(encodeFrame({ type: 'error', code, message }), ErrorCodes[code].close, message);
  }

  /** A session that moved here from another node, as it was there. */
  static fromState<U extends UserBase>(state: SessionState, host: SessionHost<U>, now: number): ServerSession<U> {
    const session = new ServerSession<U>(state.id, state.token, state.user as U, host, now);
    session.out.restore(state.acked, state.frames.map((text) => [heldOf(text), text.length] as const));
    session.inbound.last = state.processed;
    session.inbound.acked = state.processed;
    session.processed = state.processed;
    session.ackSent = state.processed;
    if (state.data) session.appData = state.data;
    return session;
  }

  // ---- end ---------------------------------------------------------------------------------

  /**
   * Ends the session for good: BYE with the ack to the downstream, close it with the code's close
   * code, drop everything queued, and let the host tombstone it. Idempotent.
   */
  end(code: ErrorCode, message: string): void {
    if (!this.stop()) return;
    this.lastWord(encodeFrame({ type: 'bye', code, message, ack: this.processed }), isErrorCode(code) ? ErrorCodes[code].close : ErrorCodes.internal.close, message);
    this.host.ended(this, code, message);
  }

  /** No more frames in or out here, nobody waits; false if that was so already. */
  private stop(): boolean {
    if (this.state === 'ended') return false;
    this.state = 'ended';
    // A frame handed to the application counts as processed, though its handler ended the session
    // or is still running: sent again in the client's next session, it would run twice.
    this.processed = this.handed;
    this.queue = undefined;
    this.postOrder?.close();
    return true;
  }

  /** Writes `frame` to the downstream, if one is attached, and closes it. */
  private lastWord(frame: string, close: number, reason: string): void {
    const d = this.downstream;
    if (!d) return;
    this.detach(d, Date.now());
    if (!d.open) return;
    d.write(frame, this.written);
    d.close(close, reason);
  }
}
