-- Bumps every generation in KEYS (all in one school's slot), atomically.
-- ARGV[1]: generation TTL (ms). Returns the number of keys bumped.
-- Follows generation.lua, prepended (see `BUMP_LUA`).
local t = redis.call('TIME')
return bump_generations(KEYS, tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[1])
