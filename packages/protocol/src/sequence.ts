/**
 * Sequence bookkeeping, identical on both sides of a session: the sender numbers reliable frames
 * and keeps each until it is acked (the server's replay buffer, the client's outbox); the receiver
 * delivers each number once, in order, and says how far it got. Pure data structures: no timers.
 */

export interface SendWindowLimits {
  /** Most frames held (sent or not, until acked). */
  maxFrames: number;
  /** Most size units held; callers pass each item's size (wirehop uses string length). */
  maxBytes: number;
}

/**
 * Frames numbered 1, 2, 3… kept from the oldest unacked to the newest. A ring of arrays with a
 * head index: push and ack are O(1) amortised, and replay walks from any sequence number.
 */
export class SendWindow<T> {
  // #private, not TS `private`: bundlers shorten these names, which the browser client pays for.
  #items: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  /** Sequence number of #items[#head]. */
  #first = 1;
  #held = 0;
  readonly #limits: SendWindowLimits;

  constructor(limits: SendWindowLimits) {
    this.#limits = limits;
  }

  /** Sequence number the next push will get. */
  get nextSeq(): number {
    return this.#first + this.#items.length - this.#head;
  }
  /** Last sequence number assigned (0 before the first push). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }
  /** Highest sequence number acked by the peer. */
  get acked(): number {
    return this.#first - 1;
  }
  /** Frames held (unacked). */
  get size(): number {
    return this.#items.length - this.#head;
  }
  /** Sum of the sizes of the frames held. */
  get bytes(): number {
    return this.#held;
  }

  /** True if one more item of this size fits within the limits. */
  fits(size: number): boolean {
    return this.size + 1 <= this.#limits.maxFrames && this.#held + size <= this.#limits.maxBytes;
  }

  /**
   * Appends an item as sequence number {@link nextSeq}. Returns that number, or 0 when the limits
   * would be exceeded (nothing is stored then: the caller applies its overflow policy).
   */
  push(item: T, size: number): number {
    if (!this.fits(size)) return 0;
    this.#items.push(item);
    this.#sizes.push(size);
    this.#held += size;
    return this.lastSeq;
  }

  /**
   * Drops every item with seq ≤ n. Returns false if n names a frame never sent (a protocol error);
   * an ack at or below what was already acked is harmless and returns true.
   */
  ack(n: number): boolean {
    if (n > this.lastSeq) return false;
    while (this.#first <= n) {
      this.#held -= this.#sizes[this.#head] ?? 0;
      (this.#items as unknown[])[this.#head] = undefined;
      this.#head++;
      this.#first++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    return true;
  }

  /** The item with this sequence number, if still held. */
  get(seq: number): T | undefined {
    if (seq < this.#first || seq > this.lastSeq) return undefined;
    return this.#items[this.#head + seq - this.#first];
  }

  /** Items with sequence numbers > `seq`, oldest first. */
  *after(seq: number): IterableIterator<[number, T]> {
    for (let s = Math.max(seq + 1, this.#first); s <= this.lastSeq; s++) yield [s, this.#items[this.#head + s - this.#first] as T];
  }

  /**
   * Refills an empty window with frames `acked + 1 …` and their sizes: a session that moved from
   * another server process keeps its numbering and its unacked frames.
   */
  restore(acked: number, items: ReadonlyArray<readonly [T, number]>): void {
    this.#items = items.map(([item]) => item);
    this.#sizes = items.map(([, size]) => size);
    this.#head = 0;
    this.#first = acked + 1;
    this.#held = this.#sizes.reduce((a, b) => a + b, 0);
  }

  /**
   * Empties the window and restarts numbering at 1, returning the unacked items in order: a
   * client that starts a new session re-enqueues what the old one never processed.
   */
  drain(): T[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#first = 1;
    this.#held = 0;
    return rest;
  }
}

export type Acceptance = 'deliver' | 'duplicate' | 'gap';

/** The receiving side: delivers each sequence number once, in order, and tracks what to ack. */
export class ReceiveWindow {
  /** Last sequence number delivered in order. */
  last = 0;
  /** Last value sent in an ack. */
  acked = 0;
  /** Size of the frames delivered since the last ack, as given to accept(). */
  units = 0;

  /**
   * `deliver`: the next one, hand it to the application. `duplicate`: already delivered (a replay
   * or a frame seen on two transports during a switch), drop it. `gap`: a number was skipped, the
   * frame cannot be delivered yet; the session must resume from {@link last}.
   * @param size the frame's size, summed in {@link units} until the next ack
   */
  accept(seq: number, size = 0): Acceptance {
    if (seq <= this.last) return 'duplicate';
    if (seq !== this.last + 1) return 'gap';
    this.last = seq;
    this.units += size;
    return 'deliver';
  }

  /** Frames delivered but not yet acked. */
  get unacked(): number {
    return this.last - this.acked;
  }

  /** Marks everything delivered as acked and returns the ack value to send. */
  takeAck(): number {
    this.acked = this.last;
    this.units = 0;
    return this.last;
  }
}
