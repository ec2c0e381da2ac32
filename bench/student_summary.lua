-- GET /api/v1/students/{id}/summary: a random student of the sampled set
-- (every 25th student of every seeded school) per request, with that
-- school's admin token. Files: $BENCH_WORK/tokens.txt, student_ids.txt.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")
local requests

setup = c.setup
done = c.done

function init(args)
  c.seed()
  local tokens = c.tokens()
  local schools, ids = c.pairs("student_ids.txt")
  requests = {}
  for i = 1, #ids do
    requests[i] = wrk.format("GET", "/api/v1/students/" .. ids[i] .. "/summary",
      { Authorization = tokens[schools[i]] })
  end
end

-- Pre-built in init (see get_student.lua).
function request()
  return requests[math.random(#requests)]
end
