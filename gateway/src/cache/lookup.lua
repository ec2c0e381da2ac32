-- One round trip per cacheable read: spend the rate limit, read the
-- generation, and fetch the value unless the caller's L1 copy is current.
-- KEYS[1]: rate-limit key, KEYS[2]: the caller's revocation hash
-- (platform::sessions), KEYS[3]: value key, KEYS[4..]: generation keys.
-- ARGV[1]: emission interval (µs), ARGV[2]: window (µs),
-- ARGV[3]: generation of the L1 copy ('' for none), ARGV[4]: generation TTL (ms),
-- ARGV[5]: the token's epoch ('': not checked), ARGV[6]: its session.
-- Returns the GCRA decision (its first field 2 when the session is
-- revoked); when allowed, followed by the generation and
-- 1 (the L1 copy is current) | 2, etag, body (stored value is current) | 0 (miss).
local now = now_us()
local d = gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now)
if d[1] == 0 then return d end
if ARGV[5] ~= '' and revoked(KEYS[2], ARGV[6], tonumber(ARGV[5])) == 1 then
  d[1] = 2
  return d
end
local gen = generation(KEYS, 4, now, ARGV[4])
d[5] = gen
if gen == ARGV[3] then
  d[6] = 1
  return d
end
local v = redis.call('HMGET', KEYS[3], 'g', 'e', 'b')
if v[1] == gen and v[2] and v[3] then
  d[6] = 2
  d[7] = v[2]
  d[8] = v[3]
else
  d[6] = 0
end
return d
