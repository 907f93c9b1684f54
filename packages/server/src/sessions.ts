/**
 * The session registry: live sessions by id, and tombstones of ended ones so that a late resume
 * learns how the session ended and how far its frames were processed (protocol.md §3) instead of a
 * bare session_unknown. Ids are nanoid (21 chars, 126 bits); resume tokens a separate nanoid(32)
 * (192 bits), compared in constant time so response timing cannot leak a token prefix.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ErrorCode } from '@wirehop/protocol';
import { nanoid } from 'nanoid';

/** How an ended session is remembered. */
export interface Tombstone {
  code: ErrorCode;
  message: string;
  /** Last client sequence number processed. */
  ack: number;
  /** Kept so that only the session's owner learns its ack. */
  token: string;
  endedAt: number;
}

export type Lookup<S> =
  | { kind: 'live'; session: S }
  | { kind: 'ended'; tombstone: Tombstone }
  | { kind: 'unknown' }
  | { kind: 'unauthorized' };

/** Length of resume tokens (192 bits of nanoid's 64-symbol alphabet). */
export const TOKEN_LENGTH = 32;

/** Constant-time string comparison (for equal lengths; a length mismatch returns early, lengths are public). */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SessionRegistry<S extends { readonly id: string; readonly token: string; readonly user: { readonly id: string } }> {
  private readonly live = new Map<string, S>();
  /** Live sessions per user id, kept only under a maxSessionsPerUser: an entry per user costs memory. */
  private readonly users: Map<string, number> | undefined;
  /** Insertion order is end order, so the oldest tombstones are first. */
  private readonly tombstones = new Map<string, Tombstone>();

  constructor(private readonly limits: { tombstoneTtlMs: number; maxTombstones: number; maxSessionsPerUser?: number }) {
    if (limits.maxSessionsPerUser) this.users = new Map();
  }

  /** A fresh session id, unused by live and remembered sessions. */
  newId(): string {
    let id = nanoid();
    while (this.live.has(id) || this.tombstones.has(id)) id = nanoid();
    return id;
  }

  newToken(): string {
    return nanoid(TOKEN_LENGTH);
  }

  add(session: S): void {
    this.live.set(session.id, session);
    this.users?.set(session.user.id, this.sessionsOf(session.user.id) + 1);
  }

  /** How many live sessions user `userId` has here (0 when maxSessionsPerUser is off: not counted). */
  sessionsOf(userId: string): number {
    return this.users?.get(userId) ?? 0;
  }

  get(id: string): S | undefined {
    return this.live.get(id);
  }

  get size(): number {
    return this.live.size;
  }

  values(): IterableIterator<S> {
    return this.live.values();
  }

  /** Resolves a resume attempt. A wrong token never reveals anything beyond 'unauthorized'. */
  lookup(id: string, token: string): Lookup<S> {
    const session = this.live.get(id);
    if (session) return tokensEqual(session.token, token) ? { kind: 'live', session } : { kind: 'unauthorized' };
    const tombstone = this.tombstones.get(id);
    if (tombstone) return tokensEqual(tombstone.token, token) ? { kind: 'ended', tombstone } : { kind: 'unauthorized' };
    return { kind: 'unknown' };
  }

  /** Forgets a live session that moved to another node: it did not end, so no tombstone. */
  forget(session: S): void {
    if (this.live.get(session.id) !== session) return;
    this.live.delete(session.id);
    if (!this.users) return;
    const left = this.sessionsOf(session.user.id) - 1;
    if (left > 0) this.users.set(session.user.id, left);
    else this.users.delete(session.user.id);
  }

  /** Forgets a live session and remembers how it ended. */
  end(session: S, code: ErrorCode, message: string, ack: number, now: number): void {
    this.forget(session);
    this.remember(session.id, { code, message, ack, token: session.token, endedAt: now });
  }

  /** Remembers how session `id` ended (here, or on another node: see nodes.ts), within the limits. */
  remember(id: string, tombstone: Tombstone): void {
    if (this.limits.maxTombstones === 0 || this.limits.tombstoneTtlMs === 0 || this.live.has(id)) return;
    this.tombstones.delete(id); // re-inserted last: the map's order is end order
    this.tombstones.set(id, tombstone);
    if (this.tombstones.size > this.limits.maxTombstones) {
      const oldest = this.tombstones.keys().next();
      if (!oldest.done) this.tombstones.delete(oldest.value);
    }
  }

  /** Drops tombstones older than tombstoneTtlMs. O(expired): they are in end order. */
  expireTombstones(now: number): void {
    for (const [id, tombstone] of this.tombstones) {
      if (now - tombstone.endedAt < this.limits.tombstoneTtlMs) break;
      this.tombstones.delete(id);
    }
  }

  get tombstoneCount(): number {
    return this.tombstones.size;
  }
}
