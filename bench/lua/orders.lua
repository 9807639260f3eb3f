-- The guest "place an order" sequence as guest-order.js sends it, closed-loop:
-- PUT /session/{id}/cart (4 lines), then POST /orders {session_id, order_id} with an
-- Idempotency-Key. A table is never used by two requests at once: a table is "free", then
-- its cart PUT is in flight, then it is "ready" (cart in), then its POST is in flight, then
-- free again. Responses are matched to tables by the session_id / order_id they carry.
-- Needs more tables than connections (then a free or ready table always exists).
-- wrk ... -s orders.lua <url> -- <tables file> <ids file> <cart body file> <placed-ids file>
local tables, by_sid, by_order = {}, {}, {}
local free, ready = {}, {}
local ids, next_id = {}, 1
local cart_body, out
bad = 0
starved = 0
placed = 0
last_bad = ""

function setup(thread)
  threads = threads or {}
  thread:set("tid", #(threads) + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local sid, token = line:match("^(%S+)\t(%S+)$")
    table.insert(tables, { sid = sid, auth = "Bearer " .. token })
    by_sid[sid] = #tables
    table.insert(free, #tables)
  end
  for line in io.lines(args[2]) do
    local order_id, key = line:match("^(%S+)\t(%S+)$")
    table.insert(ids, { order_id, key })
  end
  local f = io.open(args[3]); cart_body = f:read("*a"); f:close()
  out = io.open(args[4] .. "." .. tostring(tid), "w")
end

local function headers(slot, extra)
  local h = { Accept = "application/json", ["Content-Type"] = "application/json",
              Authorization = tables[slot].auth }
  if extra then h["Idempotency-Key"] = extra end
  return h
end

function request()
  local slot = table.remove(ready, 1)
  if slot and next_id <= #ids then
    local id = ids[next_id]; next_id = next_id + 1
    by_order[id[1]] = slot
    local body = '{"session_id":"' .. tables[slot].sid .. '","order_id":"' .. id[1] .. '"}'
    return wrk.format("POST", "/orders", headers(slot, id[2]), body)
  end
  slot = slot or table.remove(free)
  if not slot then
    starved = starved + 1  -- only after failed responses leaked their tables
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("PUT", "/session/" .. tables[slot].sid .. "/cart", headers(slot), cart_body)
end

function response(status, hdrs, body)
  if status == 200 then
    local sid = body:match('"session_id"%s*:%s*"([^"]+)"')
    local slot = sid and by_sid[sid]
    if slot then table.insert(ready, slot) end  -- (a /healthz reply has no session_id)
  elseif status == 201 then
    local order_id = body:match('"order_id"%s*:%s*"([^"]+)"')
    local slot = by_order[order_id]
    by_order[order_id] = nil
    if slot then table.insert(free, slot) end
    placed = placed + 1
    out:write(order_id, "\n")
    out:flush()
  else
    bad = bad + 1
    last_bad = (status .. " " .. (body or ""):sub(1, 200)):gsub("[%c\"\\]", " ")
  end
end

function done(summary, latency, requests)
  local unexpected, starving, total, sample = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    unexpected = unexpected + thread:get("bad")
    starving = starving + thread:get("starved")
    total = total + thread:get("placed")
    local s = thread:get("last_bad")
    if s ~= "" then sample = s end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"unexpected":%d,"starved":%d,"placed":%d,"p50_us":%d,' ..
    '"p99_us":%d,"sample":"%s"}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    unexpected, starving, total, latency:percentile(50), latency:percentile(99), sample))
end
