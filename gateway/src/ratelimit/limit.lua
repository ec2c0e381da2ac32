-- KEYS[1]: the limited key. ARGV[1]: emission interval (µs), ARGV[2]: window (µs).
-- A signed-in caller also: KEYS[2] its user's revocation hash, ARGV[3] its
-- token's epoch, ARGV[4] its session; an allowed request whose session is
-- revoked answers 2 in place of 1 (the budget is spent either way).
local d = gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now_us())
if d[1] == 1 and KEYS[2] and revoked(KEYS[2], ARGV[4], tonumber(ARGV[3])) == 1 then
  d[1] = 2
end
return d
