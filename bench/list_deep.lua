-- GET /api/v1/students?limit=25&cursor=<deep cursor>: a page ~80% of the way
-- through a school's list (keyset pagination: should cost about the same as
-- the first page). Rotates over the schools that have a deep cursor.
-- Files: $BENCH_WORK/tokens.txt, $BENCH_WORK/deep_cursors.txt.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")
local requests

setup = c.setup
done = c.done

function init(args)
  c.seed()
  local tokens = c.tokens()
  local schools, cursors = c.pairs("deep_cursors.txt")
  requests = {}
  for i = 1, #cursors do
    requests[i] = wrk.format("GET", "/api/v1/students?limit=25&cursor=" .. cursors[i],
      { Authorization = tokens[schools[i]] })
  end
end

-- Pre-built in init (see get_student.lua).
function request()
  return requests[math.random(#requests)]
end
