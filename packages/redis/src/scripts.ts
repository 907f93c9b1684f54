/**
 * The Lua scripts behind the broker. Redis runs a script as one step: no other client's command
 * runs in between, so each read-decide-write below cannot race another node doing the same. Key
 * names built inside a script (reaping walks keys it only learns while running) follow keys.ts;
 * that is also why the broker needs a single Redis, not Redis Cluster.
 *
 * Numbers go through string.format('%d') because Lua 5.1 prints large doubles as 1e+15.
 */

/** Shared helpers, prepended to the scripts that need them. */
const HELPERS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The channel's epoch, created with offset 0 when it has none. A stream left over from a lost
-- epoch would refuse the new epoch's lower ids, so it goes.
local function epoch_of(meta, stream, fresh)
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    epoch = fresh
    redis.call('DEL', stream)
    redis.call('HSET', meta, 'e', epoch, 'o', 0)
  end
  return epoch
end

-- Extends a key's expiry to at least ms (never shortens it).
local function keep(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end

-- Drops history entries published ttl ms ago or earlier. Entries are in publish order, so the
-- expired ones are a prefix: find where it ends, then trim once (exact MINID).
local function drop_expired(stream, ttl, now)
  local cutoff = now - ttl
  local start, count = '-', 1
  while true do
    local batch = redis.call('XRANGE', stream, start, '+', 'COUNT', count)
    for _, entry in ipairs(batch) do
      if tonumber(entry[2][4]) > cutoff then
        if start ~= '-' or entry ~= batch[1] then redis.call('XTRIM', stream, 'MINID', entry[1]) end
        return
      end
    end
    if #batch < count then
      redis.call('DEL', stream)
      return
    end
    start = '(' .. batch[#batch][1]
    count = 100
  end
end
`;

/**
 * publish. KEYS: meta, stream. ARGV: fresh epoch, payload, history size, history ttl ms, channel
 * keep ms, pub/sub channel. Atomic so that offsets are handed out once each and the PUBLISH order
 * is the offset order: every subscriber sees publications in the order they were numbered.
 * Returns { epoch, offset }.
 */
export const PUBLISH = `${HELPERS}
local size, ttl, keep_ms = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local epoch = epoch_of(KEYS[1], KEYS[2], ARGV[1])
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local id = string.format('%d', offset)
if size > 0 and ttl > 0 then
  local now = now_ms()
  redis.call('HSET', KEYS[1], 't', ttl)
  redis.call('XADD', KEYS[2], 'MAXLEN', size, id .. '-0', 'p', ARGV[2], 't', string.format('%d', now))
  drop_expired(KEYS[2], ttl, now)
  redis.call('PEXPIRE', KEYS[2], ttl)
else
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[1], math.max(ttl, keep_ms))
redis.call('PUBLISH', ARGV[6], 'P' .. epoch .. '\\n' .. id .. '\\n' .. ARGV[2])
return { epoch, offset }
`;

/**
 * position. KEYS: meta, stream. ARGV: fresh epoch, channel keep ms. Atomic so that two nodes
 * subscribing to a new channel at once agree on one epoch. Returns { epoch, offset }.
 */
export const POSITION = `${HELPERS}
local epoch = epoch_of(KEYS[1], KEYS[2], ARGV[1])
keep(KEYS[1], tonumber(ARGV[2]))
return { epoch, tonumber(redis.call('HGET', KEYS[1], 'o')) }
`;

/**
 * history. KEYS: meta, stream. ARGV: fresh epoch, channel keep ms, has since ('1'/'0'), since
 * epoch, since offset, limit. Atomic so that the position, the oldest held entry and the entries
 * read belong to one moment: `complete` cannot be computed from a history that moved meanwhile.
 * The same rules as MemoryBroker.history. Returns { epoch, offset, complete, id, payload, … }.
 */
export const HISTORY = `${HELPERS}
local epoch = epoch_of(KEYS[1], KEYS[2], ARGV[1])
keep(KEYS[1], tonumber(ARGV[2]))
local offset = tonumber(redis.call('HGET', KEYS[1], 'o'))
local ttl = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
if ttl > 0 then drop_expired(KEYS[2], ttl, now_ms()) end
local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local first = offset + 1
if #head > 0 then first = tonumber(string.match(head[1][1], '^%d+')) end
local has_since = ARGV[3] == '1'
local since = tonumber(ARGV[5])
local same = has_since and ARGV[4] == epoch
local complete = (not has_since) or (same and since <= offset and first <= since + 1)
local from = 0
if same then from = since end
local reply = { epoch, offset, complete and 1 or 0 }
local limit = tonumber(ARGV[6])
if limit > 0 then
  local entries = redis.call('XRANGE', KEYS[2], string.format('%d-0', from + 1), '+', 'COUNT', limit)
  for _, entry in ipairs(entries) do
    table.insert(reply, entry[1])
    table.insert(reply, entry[2][2])
  end
end
return reply
`;

/**
 * presenceAdd. KEYS: channel counts, channel members, node presence. ARGV: user id, member JSON,
 * node field, pub/sub channel. Atomic so that exactly one node sees the count go 0 → 1 and
 * publishes the join, however many sessions of the user arrive at once on however many nodes.
 */
export const PRESENCE_ADD = `
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
if redis.call('HINCRBY', KEYS[1], ARGV[1], 1) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('PUBLISH', ARGV[4], 'J' .. ARGV[2])
end
return 1
`;

/** Takes one session of the user off the channel's count; at 0 the member goes and a leave is published. */
const LEAVE_ONE = `
local function drop(counts, members, user, n, pubsub)
  local left = redis.call('HINCRBY', counts, user, -n)
  if left <= 0 then
    redis.call('HDEL', counts, user)
    local member = redis.call('HGET', members, user)
    redis.call('HDEL', members, user)
    if member then redis.call('PUBLISH', pubsub, 'L' .. member) end
  end
end
`;

/**
 * presenceRemove. KEYS: channel counts, channel members, node presence. ARGV: user id, node field,
 * pub/sub channel. Atomic for the same reason as add: one node sees 1 → 0 and publishes the leave.
 * A remove this node never added (or that reaping already took away) changes nothing.
 */
export const PRESENCE_REMOVE = `${LEAVE_ONE}
local mine = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
if mine <= 0 then return 0 end
if mine == 1 then redis.call('HDEL', KEYS[3], ARGV[2]) else redis.call('HINCRBY', KEYS[3], ARGV[2], -1) end
drop(KEYS[1], KEYS[2], ARGV[1], 1, ARGV[3])
return 1
`;

/**
 * presenceRestore. KEYS: channel counts, channel members, node presence. ARGV: user id, member
 * JSON, node field, pub/sub channel, this node's session count. Sets this node's count to what the
 * node knows (after Redis lost its data, or after the node was reaped while it was in fact alive)
 * and moves the global count by the difference, publishing a join when it leaves 0: atomic so
 * concurrent restores on several nodes publish one join per user.
 */
export const PRESENCE_RESTORE = `${LEAVE_ONE}
local want = tonumber(ARGV[5])
local mine = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')
local delta = want - mine
if delta == 0 then return 0 end
if want <= 0 then redis.call('HDEL', KEYS[3], ARGV[3]) else redis.call('HSET', KEYS[3], ARGV[3], want) end
if delta < 0 then
  drop(KEYS[1], KEYS[2], ARGV[1], -delta, ARGV[4])
elseif redis.call('HINCRBY', KEYS[1], ARGV[1], delta) == delta then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('PUBLISH', ARGV[4], 'J' .. ARGV[2])
end
return 1
`;

/**
 * Forgets a node: its presence (leaves published for users it was the last holder of), its session
 * claims (only those still pointing at it) and its membership in the node set. Key names as in
 * keys.ts. Node presence fields are `<byte length of channel>:<channel><user id>`.
 */
const REAP = `${LEAVE_ONE}
local function reap(prefix, nodes, id)
  local pn = prefix .. 'pn:' .. id
  local fields = redis.call('HGETALL', pn)
  for i = 1, #fields, 2 do
    local field = fields[i]
    local colon = string.find(field, ':', 1, true)
    local len = tonumber(string.sub(field, 1, colon - 1))
    local channel = string.sub(field, colon + 1, colon + len)
    local user = string.sub(field, colon + len + 1)
    drop(prefix .. 'pc:' .. channel, prefix .. 'pm:' .. channel, user, tonumber(fields[i + 1]), prefix .. 'p:' .. channel)
  end
  redis.call('DEL', pn)
  local ns = prefix .. 'ns:' .. id
  for _, sid in ipairs(redis.call('SMEMBERS', ns)) do
    local key = prefix .. 's:' .. sid
    if redis.call('GET', key) == id then redis.call('DEL', key) end
  end
  redis.call('DEL', ns)
  redis.call('SREM', nodes, id)
end
`;

/**
 * tick, every third of the node TTL. KEYS: node set. ARGV: prefix, this node's id, node TTL ms,
 * starting ('1'/'0'). Refreshes this node's liveness key, then reaps every node whose key has
 * expired. Atomic so that a dead node is reaped exactly once (the first tick to see it removes it
 * from the set) and never while its key is being refreshed. At start, leftovers of an earlier node
 * with the same id are reaped first. Returns { lost, reaped ids… }: lost is 1 when this node was
 * neither alive nor registered (Redis lost its data, or it was reaped while in fact alive), so
 * its presence and claims must be restored.
 */
export const TICK = `${REAP}
local prefix, self = ARGV[1], ARGV[2]
local key = prefix .. 'node:' .. self
local registered = redis.call('SISMEMBER', KEYS[1], self) == 1
local lost = 0
if ARGV[4] == '1' then
  if registered then reap(prefix, KEYS[1], self) end
elseif redis.call('EXISTS', key) == 0 and not registered then
  lost = 1
end
redis.call('SET', key, '1', 'PX', ARGV[3])
redis.call('SADD', KEYS[1], self)
local reply = { lost }
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= self and redis.call('EXISTS', prefix .. 'node:' .. id) == 0 then
    reap(prefix, KEYS[1], id)
    table.insert(reply, id)
  end
end
return reply
`;

/**
 * leave, at close. KEYS: node set. ARGV: prefix, this node's id. Atomic so that the node's
 * presence, claims and liveness go together: no other node can see it half gone.
 */
export const LEAVE = `${REAP}
reap(ARGV[1], KEYS[1], ARGV[2])
redis.call('DEL', ARGV[1] .. 'node:' .. ARGV[2])
return 1
`;

/**
 * claim. KEYS: session key, node sessions. ARGV: node id, session id, claim TTL ms, only if
 * unowned or mine ('1'/'0'). The conditional form re-asserts claims (after Redis lost its data, or
 * to refresh their TTL) without taking back a session another node claimed meanwhile: the check
 * and the SET must be one step.
 */
export const CLAIM = `${HELPERS}
local owner = redis.call('GET', KEYS[1])
if ARGV[4] == '1' and owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
keep(KEYS[2], tonumber(ARGV[3]))
return 1
`;

/**
 * release. KEYS: session key, node sessions. ARGV: node id, session id. Compare-and-delete in one
 * step: when the session moved to another node, that node's claim must survive this release.
 */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`;

/**
 * others. KEYS: nodes set. ARGV: prefix, this node's id. How many other registered nodes are alive.
 */
export const OTHERS = `
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. 'node:' .. id) == 1 then n = n + 1 end
end
return n
`;

/**
 * sendToOwner. KEYS: session key. ARGV: prefix, this node's id, message. owner and send in one
 * step: the node holding the session, if it is another and alive, gets `message` in its inbox.
 * Returns {owner, PUBLISH's receiver count}, or false when no other live node holds the session.
 */
export const SEND_TO_OWNER = `
local owner = redis.call('GET', KEYS[1])
if not owner or owner == ARGV[2] or redis.call('EXISTS', ARGV[1] .. 'node:' .. owner) == 0 then return false end
return {owner, redis.call('PUBLISH', ARGV[1] .. 'n:' .. owner, ARGV[3])}
`;

/**
 * send. KEYS: target's liveness key. ARGV: target inbox, message. Checks liveness and publishes in
 * one step; returns -1 when the target is not alive, else PUBLISH's receiver count (0: alive but not
 * listening right now, e.g. reconnecting).
 */
export const SEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`;
