-- wrk script: capture authorized card payments, each request a distinct payment.
-- Payment ids come from the Lua list EMPORIUM_BENCH_PAYMENTS (written by
-- bench/payments_and_events.py); a run starts at EMPORIUM_BENCH_OFFSET and its
-- EMPORIUM_BENCH_THREADS threads take ids in turn (thread t: offset + t, + T, ...),
-- so no id is sent twice. done() prints how many ids were sent and whether the
-- list ran out (then the thread stopped early and the run is not valid).
local ids = dofile(os.getenv("EMPORIUM_BENCH_PAYMENTS"))
local key = os.getenv("EMPORIUM_BENCH_KEY")
local offset = tonumber(os.getenv("EMPORIUM_BENCH_OFFSET"))
local nthreads = tonumber(os.getenv("EMPORIUM_BENCH_THREADS"))
local threads = {}

-- Globals, so that done() can read them with thread:get.
sent = 0
exhausted = 0
last = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  local index = offset + sent * nthreads + tid
  local id = ids[index]
  if id == nil then
    exhausted = 1
    wrk.thread:stop()
    id = ids[#ids]
  else
    sent = sent + 1
    last = index
  end
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = "capture-" .. id,
  }
  return wrk.format("POST", "/api/v1/payments/" .. id .. "/capture", headers, "{}")
end

function done(summary, latency, requests)
  local total, out, high = 0, 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("sent")
    out = math.max(out, thread:get("exhausted"))
    high = math.max(high, thread:get("last"))
  end
  print("bench sent " .. total)
  print("bench exhausted " .. out)
  print("bench last_index " .. high)
end
