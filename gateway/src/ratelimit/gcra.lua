-- GCRA, decided atomically in Redis with Redis' own clock (TIME), so every
-- gateway instance shares one exact budget whatever its local clock says.
-- Prepended to each script that limits (limit.lua, cache/lookup.lua).

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Spends one emission interval (µs) of `key`'s budget within `window` (µs).
-- Returns {allowed (0|1), remaining, retry_after_us, reset_us}.
local function gcra(key, interval, window, now)
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  if new_tat - now > window then
    return {0, 0, new_tat - now - window, tat - now}
  end
  redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
  return {1, math.floor((window - (new_tat - now)) / interval), 0, new_tat - now}
end
