-- wrk script for `make bench` (bench/run.py drives it; see bench/README.md).
-- usage: wrk ... -s bench.lua URL -- MODE [A B]
--   get LO HI    GET /notes/{random id in LO..HI}
--   offset LO HI GET /notes?limit=50&offset={random LO..HI}        the baselines' list
--   cursor FILE  GET /notes?limit=50&cursor={random line of FILE}  notes_app's keyset list
--   search FILE  GET /notes?limit=50&q={random line of FILE}       notes_app, once it serves ?q=
--   patch LO HI  PATCH /notes/{random id in LO..HI} {"body": ...}  -> 200, a new version each time
--   feed FILE    GET /notes/changes?limit=100&cursor={random line} notes_app's change feed, a full page
--   post         POST /notes {"title": ..., "body": ...}           -> 201
-- Every request carries "Authorization: Bearer $BENCH_TOKEN" when BENCH_TOKEN is set.
-- done() prints one line "WRKJSON {...}" that harness/wrk.py parses.
local tid_counter = 0

function setup(thread)
  tid_counter = tid_counter + 1
  thread:set("tid", tid_counter)
end

local mode, lo, hi, lines, n = "get", 1, 1, {}, 0
local token = os.getenv("BENCH_TOKEN")
local get_headers = {}
local post_headers = { ["Content-Type"] = "application/json" }
if token and token ~= "" then
  get_headers["Authorization"] = "Bearer " .. token
  post_headers["Authorization"] = "Bearer " .. token
end

local function read_lines(path)
  local found = {}
  for line in io.lines(path) do
    if line ~= "" then
      found[#found + 1] = line
    end
  end
  assert(#found > 0, "no lines in " .. path)
  return found
end

function init(args)
  mode = args[1] or "get"
  if mode == "cursor" or mode == "search" or mode == "feed" then
    lines = read_lines(args[2])
  elseif mode == "get" or mode == "offset" or mode == "patch" then
    lo = tonumber(args[2])
    hi = tonumber(args[3])
  end
  math.randomseed(os.time() * 7919 + (tid or 0) * 104729)
end

function request()
  if mode == "get" then
    return wrk.format("GET", "/notes/" .. math.random(lo, hi), get_headers)
  elseif mode == "offset" then
    return wrk.format("GET", "/notes?limit=50&offset=" .. math.random(lo, hi), get_headers)
  elseif mode == "cursor" then
    return wrk.format("GET", "/notes?limit=50&cursor=" .. lines[math.random(1, #lines)], get_headers)
  elseif mode == "feed" then
    return wrk.format("GET", "/notes/changes?limit=100&cursor=" .. lines[math.random(1, #lines)], get_headers)
  elseif mode == "search" then
    return wrk.format("GET", "/notes?limit=50&q=" .. lines[math.random(1, #lines)], get_headers)
  end
  n = n + 1
  if mode == "patch" then
    -- A body no earlier request sent (thread, count), so every PATCH writes a new version.
    local changed = string.format('{"body":"patched by wrk, thread %d request %d"}', tid or 0, n)
    return wrk.format("PATCH", "/notes/" .. math.random(lo, hi), post_headers, changed)
  end
  local body = string.format('{"title":"bench %d-%d","body":"created by wrk, request %d"}', tid or 0, n, n)
  return wrk.format("POST", "/notes", post_headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
