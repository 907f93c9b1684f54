/**
 * Every Redis key and pub/sub channel the broker uses, under one prefix. The reaping script in
 * scripts.ts builds the `pn:`, `pc:`, `pm:`, `p:`, `ns:`, `s:`, `n:` and `node:` names itself: keep both in step.
 */
export interface Keys {
  /** Hash { e: epoch, o: last offset, t: history ttl ms } of a channel. */
  meta(channel: string): string;
  /** Stream of a channel's publications, entry id `<offset>-0`, fields p (payload), t (publish time ms). */
  stream(channel: string): string;
  /** Pub/sub channel carrying a channel's publications and presence changes. */
  pubsub(channel: string): string;
  /** Hash user id → sessions on all nodes. */
  presenceCounts(channel: string): string;
  /** Hash user id → member JSON. */
  presenceMembers(channel: string): string;
  /** Hash presence field (see {@link presenceField}) → sessions on that node. */
  nodePresence(nodeId: string): string;
  /** Set of the session ids a node claimed. */
  nodeSessions(nodeId: string): string;
  /** A node's liveness key (PX node TTL). */
  node(nodeId: string): string;
  /** Set of the node ids registered, live or not yet reaped. */
  nodes: string;
  /** String: the id of the node holding the session. */
  session(sid: string): string;
  /** String (PX tombstone TTL): JSON of how an ended session ended (EndedSession). */
  ended(sid: string): string;
  /** Pub/sub channel of a node's requests and answers. */
  inbox(nodeId: string): string;
}

export function keysFor(prefix: string): Keys {
  return {
    meta: (channel) => `${prefix}c:${channel}`,
    stream: (channel) => `${prefix}h:${channel}`,
    pubsub: (channel) => `${prefix}p:${channel}`,
    presenceCounts: (channel) => `${prefix}pc:${channel}`,
    presenceMembers: (channel) => `${prefix}pm:${channel}`,
    nodePresence: (nodeId) => `${prefix}pn:${nodeId}`,
    nodeSessions: (nodeId) => `${prefix}ns:${nodeId}`,
    node: (nodeId) => `${prefix}node:${nodeId}`,
    nodes: `${prefix}nodes`,
    session: (sid) => `${prefix}s:${sid}`,
    ended: (sid) => `${prefix}e:${sid}`,
    inbox: (nodeId) => `${prefix}n:${nodeId}`,
  };
}

/**
 * A node's presence field for (channel, user): the channel's byte length first, so that the reaping
 * script can split it whatever characters the channel and the user id hold.
 */
export function presenceField(channel: string, userId: string): string {
  return `${Buffer.byteLength(channel)}:${channel}${userId}`;
}
