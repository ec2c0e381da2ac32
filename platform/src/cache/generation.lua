-- Generations: one counter per school and resource (and per record), all in
-- the school's hash slot. A write bumps them; a cached value is current only
-- while the generation it was stored under is still the current one.
-- Shared by every script that reads or bumps them (the gateway's lookup and
-- store, and bump.lua, which the gateway and analytics-svc both run), so
-- they all follow one rule.
--
-- A missing counter starts at Redis' clock in µs rather than at 0, so a
-- generation never repeats even after its key expired or was evicted: a value
-- stored under an old generation can never look current again.

local function fresh_generation(now)
  return string.format('%.0f', now)
end

-- The generation of KEYS[first..], creating missing counters (reads).
local function generation(keys, first, now, ttl_ms)
  local parts = {}
  for i = first, #keys do
    local g = redis.call('GET', keys[i])
    if not g then
      g = fresh_generation(now)
      redis.call('SET', keys[i], g, 'PX', ttl_ms)
    end
    parts[#parts + 1] = g
  end
  return table.concat(parts, ':')
end

-- The generation of KEYS[first..], or false when a counter is missing.
local function existing_generation(keys, first)
  local parts = {}
  for i = first, #keys do
    local g = redis.call('GET', keys[i])
    if not g then return false end
    parts[#parts + 1] = g
  end
  return table.concat(parts, ':')
end

-- Moves every counter in `keys` to a generation it never had, refreshing
-- its TTL. Returns how many were bumped.
local function bump_generations(keys, now, ttl_ms)
  for i = 1, #keys do
    if redis.call('EXISTS', keys[i]) == 1 then
      redis.call('INCR', keys[i])
    else
      redis.call('SET', keys[i], fresh_generation(now))
    end
    redis.call('PEXPIRE', keys[i], ttl_ms)
  end
  return #keys
end
