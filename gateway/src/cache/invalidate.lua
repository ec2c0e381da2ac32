-- Bumps every generation in KEYS (all in one tenant's slot), atomically.
-- ARGV[1]: generation TTL (ms). Returns the number of keys bumped.
local now = now_us()
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCR', KEYS[i])
  else
    redis.call('SET', KEYS[i], fresh_generation(now))
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return #KEYS
