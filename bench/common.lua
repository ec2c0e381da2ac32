-- Shared by the scenario scripts: file loading and the JSON result line.
-- Environment (read by every script):
--   BENCH_WORK      directory with the seeder's files (default bench/.work)
--   BENCH_OUT       file the result line is appended to (default: stdout only)
--   BENCH_SCENARIO  label written into the result line
--   BENCH_PHASE     optional data-set label (dashboards: small | district)
local M = {}

M.work = os.getenv("BENCH_WORK") or "bench/.work"

function M.lines(name)
  local path = M.work .. "/" .. name
  local f = io.open(path, "r")
  if not f then error("cannot open " .. path .. " (run the seeder first)") end
  local out = {}
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  if #out == 0 then error(path .. " is empty") end
  return out
end

-- tokens.txt: one bearer token per line -> pre-built Authorization values.
function M.tokens()
  local t = {}
  for i, tok in ipairs(M.lines("tokens.txt")) do t[i] = "Bearer " .. tok end
  return t
end

-- "<school> <value>" lines -> two parallel arrays.
function M.pairs(name)
  local schools, values = {}, {}
  for _, line in ipairs(M.lines(name)) do
    local s, v = line:match("^(%d+) (%S+)$")
    if not s then error("bad line in " .. name .. ": " .. line) end
    schools[#schools + 1] = tonumber(s)
    values[#values + 1] = v
  end
  return schools, values
end

-- Distinct seeds per wrk thread.
local counter = 0
function M.setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
end

function M.seed()
  math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
end

local function ms(us) return us / 1000.0 end

function M.done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local line = string.format(
    '{"scenario":"%s","phase":"%s","connections":%d,"threads":%d,"requests":%d,"duration_s":%.3f,' ..
    '"rps":%.1f,"bytes":%d,"latency_ms":{"p50":%.3f,"p90":%.3f,"p95":%.3f,"p99":%.3f,' ..
    '"max":%.3f,"mean":%.3f,"stdev":%.3f},"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"status":%d,"total":%d}}',
    os.getenv("BENCH_SCENARIO") or "unnamed",
    os.getenv("BENCH_PHASE") or "",
    tonumber(os.getenv("BENCH_CONNECTIONS") or "0"),
    tonumber(os.getenv("BENCH_THREADS") or "0"),
    summary.requests, secs, summary.requests / secs, summary.bytes,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(95)),
    ms(latency:percentile(99)), ms(latency.max), ms(latency.mean), ms(latency.stdev),
    e.connect, e.read, e.write, e.timeout, e.status,
    e.connect + e.read + e.write + e.timeout + e.status)
  io.write(line .. "\n")
  local out = os.getenv("BENCH_OUT")
  if out and out ~= "" then
    local f = assert(io.open(out, "a"))
    f:write(line .. "\n")
    f:close()
  end
end

return M
