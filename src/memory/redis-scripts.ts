/**
 * The Redis store's Lua scripts. Each runs atomically on the server (Redis executes one script at a time),
 * so the expiry check, the turn limit and the write see the same data however many replicas call at once —
 * the Redis counterpart of the SQLite store's BEGIN IMMEDIATE transactions.
 *
 * Layout per thread: a hash `<prefix>thread:<id>` (head JSON, updatedAt, expiresAt, state JSON, version) and
 * a list `<prefix>thread:<id>:turns` (one JSON turn per element); a sorted set `<prefix>threads:expiry`
 * (id → expiresAt) lets sweep() find expired threads without scanning the keyspace.
 *
 * Every script answers `{status, ...}`: 'ok' followed by the thread snapshot, or 'not_found' / 'full' /
 * 'conflict', so expected outcomes never travel as Redis errors.
 */
import { defineScript, type Script } from '../redis/script.js';

export { runScript, type Script } from '../redis/script.js';

const script = (name: string, body: string): Script => defineScript(name, `${PRELUDE}\n${body}`);

// KEYS[1] thread hash, KEYS[2] turns list, KEYS[3] expiry index. Logical expiry (expiresAt, from the
// caller's clock) decides liveness; PEXPIRE (a little longer) only collects the garbage.
const PRELUDE = `
local function live(now)
  local expires = redis.call('HGET', KEYS[1], 'expiresAt')
  return expires and tonumber(expires) > now
end
local function snapshot()
  local f = redis.call('HMGET', KEYS[1], 'head', 'updatedAt', 'state', 'version')
  return {'ok', f[1], f[2], f[3], f[4], redis.call('LRANGE', KEYS[2], 0, -1)}
end
local function touch(id, iso, expiresAt, pexpire)
  redis.call('HSET', KEYS[1], 'updatedAt', iso, 'expiresAt', expiresAt)
  redis.call('PEXPIRE', KEYS[1], pexpire)
  redis.call('PEXPIRE', KEYS[2], pexpire)
  redis.call('ZADD', KEYS[3], expiresAt, id)
  if redis.call('PTTL', KEYS[3]) < tonumber(pexpire) then redis.call('PEXPIRE', KEYS[3], pexpire) end
end
-- One RPUSH per turn rather than unpack(): unpack has a stack limit, and the script is atomic either way.
local function push(from)
  for i = from, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
end`;

/** ARGV: id, iso, expiresAt, pexpireMs, head JSON, then the first turns' JSON, oldest first (maybe none). */
export const CREATE = script(
  'create',
  `
redis.call('HSET', KEYS[1], 'head', ARGV[5], 'state', '{}', 'version', '0')
push(6)
touch(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return snapshot()`,
);

/** ARGV: now. */
export const GET = script(
  'get',
  `
if not live(tonumber(ARGV[1])) then return {'not_found'} end
return snapshot()`,
);

/**
 * ARGV: now, id, iso, expiresAt, pexpireMs, maxTurns, then one or more turns' JSON, oldest first. The batch
 * lands whole or not at all ('full' when the thread cannot hold every turn of it).
 */
export const APPEND = script(
  'append',
  `
if not live(tonumber(ARGV[1])) then return {'not_found'} end
if redis.call('LLEN', KEYS[2]) + #ARGV - 6 > tonumber(ARGV[6]) then return {'full'} end
push(7)
touch(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return snapshot()`,
);

/** Compare-and-set of the state. ARGV: now, id, iso, expiresAt, pexpireMs, expected version, state JSON. */
export const SET_STATE = script(
  'set_state',
  `
if not live(tonumber(ARGV[1])) then return {'not_found'} end
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[6] then return {'conflict'} end
redis.call('HSET', KEYS[1], 'state', ARGV[7])
redis.call('HINCRBY', KEYS[1], 'version', 1)
touch(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return snapshot()`,
);

/**
 * KEYS[1] expiry index. ARGV: now, thread key prefix, batch size. Deletes up to one batch of expired threads
 * and returns how many. Thread keys are derived here, so this script needs every key on one server: the
 * store supports a single Redis server (a primary), not Redis Cluster.
 */
export const SWEEP = defineScript(
  'sweep',
  `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[2] .. id, ARGV[2] .. id .. ':turns')
  redis.call('ZREM', KEYS[1], id)
end
return #ids`,
);
