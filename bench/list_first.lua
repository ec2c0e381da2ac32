-- GET /api/v1/students?limit=25: the first page of a random school's list
-- (admin token of that school). File: $BENCH_WORK/tokens.txt.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")
local tokens
local headers = {}

setup = c.setup
done = c.done

function init(args)
  c.seed()
  tokens = c.tokens()
end

function request()
  headers["Authorization"] = tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/v1/students?limit=25", headers)
end
