-- GCRA, decided atomically in Redis with Redis' own clock (TIME), so every
-- gateway instance shares one exact budget whatever its local clock says.
-- KEYS[1]: the limited key. ARGV[1]: emission interval (µs), ARGV[2]: window (µs).
-- Returns {allowed (0|1), remaining, retry_after_us, reset_us}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > window then
  return {0, 0, new_tat - now - window, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor((window - (new_tat - now)) / interval), 0, new_tat - now}
