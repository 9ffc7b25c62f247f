-- wrk script: guest orders of 1-3 random SKUs, each with its own Idempotency-Key.
-- SKU ids come from bench/skus.lua, written by bench/order_placement.py.
local skus = dofile(os.getenv("EMPORIUM_BENCH_SKUS"))
local key = os.getenv("EMPORIUM_BENCH_KEY")
local counter = 0
local thread_tag = "0"
local next_id = 0

-- Each wrk thread has its own Lua state: number them so idempotency keys and
-- random streams differ per thread.
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
end

function init(args)
  thread_tag = tostring(tid) .. "-" .. tostring(os.time())
  math.randomseed(tid * 7919 + os.time())
end

function request()
  counter = counter + 1
  local n = math.random(1, 3)
  local lines = {}
  for i = 1, n do
    lines[i] = string.format('{"sku_id":"%s","quantity":%d}', skus[math.random(#skus)], math.random(1, 2))
  end
  local body = string.format(
    '{"guest_email":"bench%d@example.com","lines":[%s],"shipping_address":{"name":"Bench Buyer",' ..
    '"line1":"1 Load St","city":"Albany","region":"NY","postal_code":"12207","country":"US"},' ..
    '"sales_channel":"web","traffic_source":"direct","device":"desktop"}',
    counter, table.concat(lines, ","))
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = thread_tag .. "-" .. counter,
  }
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
