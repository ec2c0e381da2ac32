-- Whether an access token is revoked: issued under an epoch older than its
-- user's (every session of the user ended), or its session ended.
-- epoch_key, ended_key: the keys (platform::sessions); epoch: the token's.
local function revoked(epoch_key, ended_key, epoch)
  local current = tonumber(redis.call('GET', epoch_key) or '-1')
  if current > epoch then return 1 end
  return redis.call('EXISTS', ended_key)
end
