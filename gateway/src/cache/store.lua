-- Stores a loaded value only if the generation it was loaded under is still
-- current: a reader racing a write can never put the old value back.
-- KEYS[1]: value key, KEYS[2..]: generation keys.
-- ARGV[1]: generation read before the origin call, ARGV[2]: TTL (ms),
-- ARGV[3]: etag, ARGV[4]: body. Returns 1 when stored, 0 when refused.
if existing_generation(KEYS, 2) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'g', ARGV[1], 'e', ARGV[3], 'b', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
