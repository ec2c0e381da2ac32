-- One round trip per cacheable read: spend the rate limit, read the
-- generation, and fetch the value unless the caller's L1 copy is current.
-- KEYS[1]: rate-limit key, KEYS[2]: value key, KEYS[3..]: generation keys.
-- ARGV[1]: emission interval (µs), ARGV[2]: window (µs),
-- ARGV[3]: generation of the L1 copy ('' for none), ARGV[4]: generation TTL (ms).
-- Returns the GCRA decision; when allowed, followed by the generation and
-- 1 (the L1 copy is current) | 2, etag, body (stored value is current) | 0 (miss).
local now = now_us()
local d = gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now)
if d[1] == 0 then return d end
local gen = generation(KEYS, 3, now, ARGV[4])
d[5] = gen
if gen == ARGV[3] then
  d[6] = 1
  return d
end
local v = redis.call('HMGET', KEYS[2], 'g', 'e', 'b')
if v[1] == gen and v[2] and v[3] then
  d[6] = 2
  d[7] = v[2]
  d[8] = v[3]
else
  d[6] = 0
end
return d
