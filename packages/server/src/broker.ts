/**
 * The broker: what one wirehop process needs from whatever connects it to the others. Channel
 * publications get an offset within an epoch and are kept in a bounded history; presence is counted
 * across processes ("nodes"); a session lives on one node, and other nodes can find that node and
 * talk to it. The in-memory broker (memory-broker.ts, the default) is a single node; @wirehop/redis
 * implements the same interface over Redis. Both pass the conformance suite in test/broker-conformance.ts.
 *
 * Ordering is the hub's job, not the broker's: a broker may hand a publication to `host.publication`
 * more than once or out of order (a pub/sub message racing a history read, a reconnect); the hub
 * (channel-feed.ts) delivers each offset once, in order, and fills holes from `history`.
 */
import type { Json, Member, StreamPosition } from '@wirehop/protocol';

export type { StreamPosition };

/** One stored publication: its offset and the payload given to `publish`. */
export interface BrokerPublication {
  offset: number;
  payload: string;
}

/** How much of a channel's history to keep: at most `size` publications, none older than `ttlMs`. */
export interface HistoryLimits {
  size: number;
  ttlMs: number;
}

/** An answer of {@link Broker.history}. */
export interface HistoryPage {
  /** The channel's position when the history was read. */
  position: StreamPosition;
  /** Publications after `since.offset`, oldest first, at most `limit`. */
  publications: BrokerPublication[];
  /**
   * False when the history cannot continue from `since`: another epoch, or publications after
   * `since` were already dropped (size or age). `publications` then starts wherever the history does.
   */
  complete: boolean;
}

/** How a session ended, as kept for other nodes (see Broker.endSession). */
export interface EndedSession {
  code: string;
  message: string;
  /** Last client frame the session processed. */
  ack: number;
  /** SHA-256 of the resume token, hex: a node checks a resume against it without the token being stored. */
  tokenHash: string;
}

/** What a broker calls on the node it serves. Calls must not throw; errors go to `error`. */
export interface BrokerHost {
  /** A publication on a channel this node subscribed to, published by any node. */
  publication(channel: string, epoch: string, offset: number, payload: string): void;
  /** A user's first session joined, or its last session left, a channel: on any node. */
  presence(channel: string, kind: 'join' | 'leave', member: Member): void;
  /** A message another node sent this one with {@link Broker.request}; the answer goes back to it. */
  request(message: Json, from: string): Promise<Json>;
  /**
   * The broker's connection came back after a loss. Publications may have been missed meanwhile:
   * the node re-reads the position of every channel it follows and fills holes from history.
   */
  reconnected(): void;
  /** Something went wrong that no caller is waiting for (a lost connection, a bad message). */
  error(error: unknown): void;
}

export interface Broker {
  /** This node's id, unique among the nodes sharing the broker. */
  readonly nodeId: string;
  /** True when other nodes may exist: sessions unknown here may live elsewhere. */
  readonly distributed: boolean;
  /** Connects. Called once by the server before it takes sessions. */
  start(host: BrokerHost): Promise<void>;
  /** Disconnects, releasing this node's presence and session claims. */
  close(): Promise<void>;
  /**
   * Optional: called on every server sweep (about once a second), for a broker that has no clock
   * of its own to drop expired history with (Redis expires keys itself).
   */
  sweep?(): void;

  // ---- channels ----------------------------------------------------------------------------

  /**
   * Gives the publication the channel's next offset, stores it within `history` and delivers it to
   * every node subscribed to the channel, this one included. Concurrent publishes to one channel,
   * from any nodes, are delivered everywhere in offset order. Rejects with a WirehopError
   * `broker_unavailable` when the publication could not be stored (nothing was published then).
   */
  publish(channel: string, payload: string, history: HistoryLimits): Promise<StreamPosition>;
  /**
   * Starts delivering the channel's publications to this node. Resolves with the position before the
   * first publication that will be delivered: everything after it reaches `host.publication`.
   */
  subscribe(channel: string): Promise<StreamPosition>;
  unsubscribe(channel: string): Promise<void>;
  /** Publications after `since` (all held when undefined), oldest first, at most `limit`. */
  history(channel: string, since: StreamPosition | undefined, limit: number): Promise<HistoryPage>;

  // ---- presence ----------------------------------------------------------------------------

  /**
   * One more session of `member.id` in `channel` on this node. When it is the user's first session
   * there on any node, every node subscribed to the channel gets `host.presence(channel, 'join', …)`.
   */
  presenceAdd(channel: string, member: Member): Promise<void>;
  /** One session fewer; when it was the user's last one anywhere, every node gets 'leave'. */
  presenceRemove(channel: string, member: Member): Promise<void>;
  /** Members present on every node, one per user. */
  members(channel: string): Promise<Member[]>;

  // ---- sessions across nodes ---------------------------------------------------------------

  /** This node now holds session `sid`. */
  claimSession(sid: string): Promise<void>;
  /** This node no longer holds `sid` (ended, or handed to another node). */
  releaseSession(sid: string): Promise<void>;
  /** How many other nodes are alive: those that could take this node's sessions over. */
  otherNodes(): Promise<number>;
  /**
   * Session `sid` ended: keep `record` for `ttlMs`, so that a late resume reaching another node
   * learns how far the session got, as it would on the node where it ended. A single-node broker
   * keeps nothing (that node's own tombstones answer).
   */
  endSession(sid: string, record: EndedSession, ttlMs: number): Promise<void>;
  /** What {@link endSession} kept for `sid`, while it is kept. */
  endedSession(sid: string): Promise<EndedSession | undefined>;
  /** Sends `message` to node `nodeId`'s `host.request` and resolves with its answer; rejects on timeout. */
  request(nodeId: string, message: Json, timeoutMs: number): Promise<Json>;
  /**
   * {@link request} to the live node holding session `sid` (its last {@link claimSession}), looked
   * up in the same round trip: resolves with that node and its answer, or undefined (nothing sent)
   * when no node other than this one holds the session: never claimed, released, or its node died.
   */
  requestOwner(sid: string, message: Json, timeoutMs: number): Promise<{ owner: string; answer: Json } | undefined>;
}
