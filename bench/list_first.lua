-- GET /api/v1/students?limit=25: the first page of a random school's list
-- (admin token of that school). File: $BENCH_WORK/tokens.txt.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")
local requests

setup = c.setup
done = c.done

function init(args)
  c.seed()
  requests = {}
  for i, token in ipairs(c.tokens()) do
    requests[i] = wrk.format("GET", "/api/v1/students?limit=25", { Authorization = token })
  end
end

-- Pre-built in init (see get_student.lua).
function request()
  return requests[math.random(#requests)]
end
