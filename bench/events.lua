-- wrk script: storefront clickstream batches to POST /api/v1/events.
-- EMPORIUM_BENCH_EVENTS is a file of request bodies (one JSON per line, written by
-- bench/payments_and_events.py) in which every event_id starts with the
-- placeholder @@@@@@@@-@@@@. Each request takes the next body and puts its own
-- 8-4 hex prefix there (run, thread and request number), so every event of every
-- request has an event_id never sent before and nothing is deduplicated.
-- response() adds up the server's received / inserted / duplicates counts;
-- done() prints them with the number of requests sent.
local key = os.getenv("EMPORIUM_BENCH_KEY")
local run = tonumber(os.getenv("EMPORIUM_BENCH_RUN"))
local path = os.getenv("EMPORIUM_BENCH_EVENTS")
local placeholder = "@@@@@@@@-@@@@"
local threads = {}
local bodies = {}
local headers = {}

sent = 0
ok = 0
received = 0
inserted = 0
duplicates = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function split(text)
  local pieces, start = {}, 1
  while true do
    local i, j = string.find(text, placeholder, start, true)
    if i == nil then
      table.insert(pieces, string.sub(text, start))
      return pieces
    end
    table.insert(pieces, string.sub(text, start, i - 1))
    start = j + 1
  end
end

function init(args)
  for line in io.lines(path) do
    if #line > 0 then
      table.insert(bodies, split(line))
    end
  end
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}
end

function request()
  local n = sent
  sent = sent + 1
  local prefix = string.format("%02x%02x%04x-%04x", run, tid, math.floor(n / 65536), n % 65536)
  local body = table.concat(bodies[(n + tid) % #bodies + 1], prefix)
  return wrk.format("POST", "/api/v1/events", headers, body)
end

function response(status, hdrs, body)
  if status == 200 then
    ok = ok + 1
    received = received + tonumber(string.match(body, '"received"%s*:%s*(%d+)') or 0)
    inserted = inserted + tonumber(string.match(body, '"inserted"%s*:%s*(%d+)') or 0)
    duplicates = duplicates + tonumber(string.match(body, '"duplicates"%s*:%s*(%d+)') or 0)
  end
end

function done(summary, latency, requests)
  local totals = {sent = 0, ok = 0, received = 0, inserted = 0, duplicates = 0}
  for _, thread in ipairs(threads) do
    for name, value in pairs(totals) do
      totals[name] = value + thread:get(name)
    end
  end
  for _, name in ipairs({"sent", "ok", "received", "inserted", "duplicates"}) do
    print("bench " .. name .. " " .. string.format("%d", totals[name]))
  end
end
