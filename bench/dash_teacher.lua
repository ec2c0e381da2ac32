-- GET /api/v1/dashboards/teacher: the signed-in teacher's dashboard, a random
-- teacher per request (teachers of every seeded school, each with their own
-- token). File: $BENCH_WORK/teacher_tokens.txt.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")
local requests

setup = c.setup
done = c.done

function init(args)
  c.seed()
  requests = {}
  for i, tok in ipairs(c.lines("teacher_tokens.txt")) do
    requests[i] = wrk.format("GET", "/api/v1/dashboards/teacher", { Authorization = "Bearer " .. tok })
  end
end

-- Pre-built in init (see get_student.lua).
function request()
  return requests[math.random(#requests)]
end
