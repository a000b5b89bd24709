-- wrk script: POST /api/tickets (ticket registration) with a fresh Idempotency-Key on every request.
--   HOTLINE_TOKENS=<token>,<token>,... wrk -t2 -c32 -d10s --latency -s tests/load/register.lua http://127.0.0.1:8345
-- Requests take the tokens in turn (one user per token), so the load is spread over several users. The server limits
-- every signed-in user to Hotline:Security:RequestsPerUserPerMinute (production default 6,000/min = 100 req/s per user),
-- so N users' tokens carry at most N x 100 req/s. To measure above that, start the server with that limit raised
-- (benchmark only: --Hotline:Security:RequestsPerUserPerMinute=1000000, as the "http-register" suite does); never
-- raise it in production. HOTLINE_TOKEN (one token) still works.
-- Get a token: curl -s -XPOST -H 'Content-Type: application/json' \
--   -d '{"username":"agent1","password":"Hotline@2026"}' http://127.0.0.1:8345/api/auth/login   (demo users)
-- The benchmark suite (tests/Hotline.Benchmarks, suite "http-register") runs this same script when wrk is installed.
local tokens = {}
for t in string.gmatch(os.getenv("HOTLINE_TOKENS") or os.getenv("HOTLINE_TOKEN") or "", "[^,%s]+") do
  tokens[#tokens + 1] = t
end
if #tokens == 0 then error("set HOTLINE_TOKENS (comma-separated bearer tokens of office users) or HOTLINE_TOKEN") end
-- The caller's phone varies per request so the repeat-caller lookup sees realistic data.
local body = '{"channel":"电话","type":"投诉","urgency":"一般","categoryCode":"010201","areaCode":"010101",' ..
  '"address":"湖滨路 88 号 3 栋","content":"小区物业长期不清理楼道垃圾，多次反映无果。","callerName":"王建华","callerPhone":"139%08d"}'
local phoneBase = 0
local prefix = ""
local counter = 0

function init(args)
  local seed = tonumber(tostring({}):match("0x(%x+)") or "0", 16) + os.time()
  math.randomseed(seed)
  prefix = string.format("wrk-%08x-%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  phoneBase = math.random(0, 99999999)
  counter = math.random(0, #tokens - 1) -- threads start on different users
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/api/tickets", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1],
    ["Idempotency-Key"] = prefix .. "-" .. counter,
  }, string.format(body, (phoneBase + counter) % 100000000))
end

local errors = 0
function response(status, headers, body)
  if status ~= 201 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("status " .. status .. ": " .. string.sub(body, 1, 200) .. "\n") end
  end
end
