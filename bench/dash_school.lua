-- GET /api/v1/dashboards/school: the admin dashboard of a random school
-- (that school's admin token) per request. Files: $BENCH_WORK/tokens.txt
-- (the district phase's work directory: one admin token per seeded school).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")
local requests

setup = c.setup
done = c.done

function init(args)
  c.seed()
  requests = {}
  for i, token in ipairs(c.tokens()) do
    requests[i] = wrk.format("GET", "/api/v1/dashboards/school", { Authorization = token })
  end
end

-- Pre-built in init (see get_student.lua).
function request()
  return requests[math.random(#requests)]
end
