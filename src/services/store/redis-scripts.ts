/**
 * Lua run inside Redis, so each step is atomic whichever instance sends it (Redis runs one script at
 * a time). Layout per collection `c` under the prefix `P`:
 * - `P<c>:d` hash: key → `<expiresAt or empty>\x01<JSON>` (the level backend's value encoding);
 * - `P<c>:k` sorted set, every score 0: the keys in byte order, for prefix and paging ranges;
 * - `P<c>:x` sorted set: key → deadline, so expiry walks only what is due.
 * Keys are built in the scripts from the prefix, so this needs one Redis primary (with replicas, or
 * Sentinel), not Redis Cluster, whose slots would split a collection's three keys.
 */

/** The deadline in front of an encoded value; nil when it has none. */
const DEADLINE = `
local function deadline(raw)
  local at = string.find(raw, '\\1', 1, true)
  if at == nil or at == 1 then return nil end
  return tonumber(string.sub(raw, 1, at - 1))
end
local function put(p, c, key, raw, exp)
  redis.call('HSET', p .. c .. ':d', key, raw)
  redis.call('ZADD', p .. c .. ':k', 0, key)
  if exp == '' then redis.call('ZREM', p .. c .. ':x', key)
  else redis.call('ZADD', p .. c .. ':x', tonumber(exp), key) end
end
local function del(p, c, key)
  redis.call('HDEL', p .. c .. ':d', key)
  redis.call('ZREM', p .. c .. ':k', key)
  redis.call('ZREM', p .. c .. ':x', key)
end
`

/**
 * ARGV: prefix, then groups of five (op `s`|`d`, collection, key, encoded value, deadline or empty).
 * Returns each op's previous value ('' when there was none): all ops or none, in one step.
 */
export const WRITE = `${DEADLINE}
local p = ARGV[1]
local out = {}
for i = 2, #ARGV, 5 do
  local c, key = ARGV[i + 1], ARGV[i + 2]
  out[#out + 1] = redis.call('HGET', p .. c .. ':d', key) or ''
  if ARGV[i] == 's' then put(p, c, key, ARGV[i + 3], ARGV[i + 4]) else del(p, c, key) end
end
return out
`

/** ARGV: prefix, collection, key, encoded value, deadline or empty, now. 1 when written, 0 when a live one exists. */
export const CREATE = `${DEADLINE}
local p, c, key = ARGV[1], ARGV[2], ARGV[3]
local old = redis.call('HGET', p .. c .. ':d', key)
if old then
  local exp = deadline(old)
  if exp == nil or exp > tonumber(ARGV[6]) then return 0 end
end
put(p, c, key, ARGV[4], ARGV[5])
return 1
`

/**
 * ARGV: prefix, now, limit, collections... Removes what is due and returns it, so exactly one caller
 * hears of each expiry however many instances sweep: { earliest remaining deadline or '', more (0|1),
 * collection, key, value, ... }.
 */
export const SWEEP = `${DEADLINE}
local p, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = { '', 0 }
local earliest = nil
for i = 4, #ARGV do
  local c = ARGV[i]
  local due = redis.call('ZRANGEBYSCORE', p .. c .. ':x', '-inf', now, 'LIMIT', 0, limit)
  if #due >= limit then out[2] = 1 end
  for _, key in ipairs(due) do
    local raw = redis.call('HGET', p .. c .. ':d', key)
    redis.call('ZREM', p .. c .. ':x', key)
    if raw then
      local exp = deadline(raw)
      if exp ~= nil and exp <= now then
        del(p, c, key)
        out[#out + 1] = c
        out[#out + 1] = key
        out[#out + 1] = raw
      end
    end
  end
  local first = redis.call('ZRANGE', p .. c .. ':x', 0, 0, 'WITHSCORES')
  if first[2] then
    local s = tonumber(first[2])
    if earliest == nil or s < earliest then earliest = s end
  end
end
if earliest ~= nil then out[1] = string.format('%.17g', earliest) end
return out
`
