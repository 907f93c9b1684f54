import { describe, expect, it } from 'vitest';
import { SessionRegistry, TOKEN_LENGTH, tokensEqual } from './sessions.js';

const entry = (id: string, token: string, user = 'u') => ({ id, token, user: { id: user } });

describe('SessionRegistry', () => {
  it('makes 21-character ids and separate 32-character tokens', () => {
    const registry = new SessionRegistry({ tombstoneTtlMs: 1000, maxTombstones: 10 });
    const id = registry.newId();
    const token = registry.newToken();
    expect(id).toMatch(/^[\w-]{21}$/);
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(token.length).toBe(TOKEN_LENGTH);
  });

  it('resolves resumes: live, wrong token, ended (with its ack), unknown', () => {
    const registry = new SessionRegistry({ tombstoneTtlMs: 1000, maxTombstones: 10 });
    const s = entry('s1', 't'.repeat(32));
    registry.add(s);
    expect(registry.lookup('s1', 't'.repeat(32))).toEqual({ kind: 'live', session: s });
    expect(registry.lookup('s1', 'x'.repeat(32))).toEqual({ kind: 'unauthorized' });
    expect(registry.lookup('s1', 'short')).toEqual({ kind: 'unauthorized' });
    registry.end(s, 'session_expired', 'expired', 7, 100);
    expect(registry.get('s1')).toBeUndefined();
    expect(registry.lookup('s1', 't'.repeat(32))).toMatchObject({ kind: 'ended', tombstone: { code: 'session_expired', ack: 7 } });
    expect(registry.lookup('s1', 'x'.repeat(32))).toEqual({ kind: 'unauthorized' });
    expect(registry.lookup('nope', 't')).toEqual({ kind: 'unknown' });
  });

  it('counts live sessions per user under maxSessionsPerUser: ended and moved ones leave the count, once', () => {
    const registry = new SessionRegistry({ tombstoneTtlMs: 1000, maxTombstones: 10, maxSessionsPerUser: 5 });
    const [a, b, c] = [entry('s1', 't1', 'ada'), entry('s2', 't2', 'ada'), entry('s3', 't3', 'bob')];
    for (const s of [a, b, c]) registry.add(s);
    expect([registry.sessionsOf('ada'), registry.sessionsOf('bob'), registry.sessionsOf('eve')]).toEqual([2, 1, 0]);
    registry.end(a, 'session_closed', 'bye', 0, 1);
    registry.end(a, 'session_closed', 'bye', 0, 2); // ended twice: counted once
    registry.forget(c);
    expect([registry.sessionsOf('ada'), registry.sessionsOf('bob')]).toEqual([1, 0]);
    registry.forget(b);
    expect(registry.sessionsOf('ada')).toBe(0);
  });

  it('forgets tombstones after their TTL and beyond the cap, oldest first', () => {
    const registry = new SessionRegistry({ tombstoneTtlMs: 1000, maxTombstones: 2 });
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      const s = entry(id, 'k');
      registry.add(s);
      registry.end(s, 'session_closed', 'bye', 0, i * 100);
    }
    expect(registry.tombstoneCount).toBe(2);
    expect(registry.lookup('a', 'k').kind).toBe('unknown');
    registry.expireTombstones(1100);
    expect(registry.lookup('b', 'k').kind).toBe('unknown');
    expect(registry.lookup('c', 'k').kind).toBe('ended');
    registry.expireTombstones(1200);
    expect(registry.tombstoneCount).toBe(0);
  });
});

describe('tokensEqual', () => {
  it('compares exactly', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
    expect(tokensEqual('', '')).toBe(true);
  });
});
