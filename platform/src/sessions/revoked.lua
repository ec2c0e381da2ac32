-- Whether an access token is revoked: issued under an epoch older than its
-- user's (every session of the user ended), or its session ended. One hash
-- per user (platform::sessions): field `e` the epoch, `x:<session>` an
-- ended session; one read.
local function revoked(user_key, session, epoch)
  local v = redis.call('HMGET', user_key, 'e', 'x:' .. session)
  if tonumber(v[1] or '-1') > epoch or v[2] then return 1 end
  return 0
end
