-- GET /api/v1/students/{id}: a random student of the "hot set" (every k-th
-- seeded student, BENCH_HOT_STUDENTS of them, default 5000, spread over all
-- schools: the records a school day keeps reading) per request, with that
-- school's admin token. Files: $BENCH_WORK/tokens.txt, student_ids.txt.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")
local requests

setup = c.setup
done = c.done

function init(args)
  c.seed()
  local tokens = c.tokens()
  local all_schools, all_ids = c.pairs("student_ids.txt")
  local hot = tonumber(os.getenv("BENCH_HOT_STUDENTS") or "5000")
  local step = math.max(1, math.floor(#all_ids / hot))
  requests = {}
  for i = 1, #all_ids, step do
    requests[#requests + 1] = wrk.format("GET", "/api/v1/students/" .. all_ids[i],
      { Authorization = tokens[all_schools[i]] })
  end
end

-- Pre-built in init: wrk shares the cores with the system under test, so
-- its per-request work is kept to picking one.
function request()
  return requests[math.random(#requests)]
end
