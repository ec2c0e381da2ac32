-- GET /healthz: no auth, no I/O behind it; wrk's static request path (no
-- per-request Lua). The ceiling the other scenarios are compared with.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

wrk.method = "GET"
wrk.path = "/healthz"

setup = c.setup
done = c.done
