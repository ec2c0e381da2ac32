-- GET /api/v1/students/{id}: a random seeded student of a random school per
-- request, with that school's admin token (tenant mix across all schools).
-- Files: $BENCH_WORK/tokens.txt, $BENCH_WORK/student_ids.txt.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")
local tokens, schools, ids
local headers = {}

setup = c.setup
done = c.done

function init(args)
  c.seed()
  tokens = c.tokens()
  schools, ids = c.pairs("student_ids.txt")
end

function request()
  local i = math.random(#ids)
  headers["Authorization"] = tokens[schools[i]]
  return wrk.format("GET", "/api/v1/students/" .. ids[i], headers)
end
