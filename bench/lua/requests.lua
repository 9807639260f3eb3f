-- Closed-loop GETs/POSTs from a prepared list, cycled. Lines of the list file:
--   METHOD <TAB> PATH <TAB> Name: value|Name: value <TAB> BODY
-- wrk ... -s requests.lua <url> -- <list file> <expected statuses, comma separated>
local list = {}
local cursor = 0
local expected = {}
bad = 0
last_bad = ""

function setup(thread)
  threads = threads or {}
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local method, path, hdrs, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    for pair in hdrs:gmatch("[^|]+") do
      local name, value = pair:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    if body == "" then body = nil end
    table.insert(list, wrk.format(method, path, headers, body))
  end
  for code in args[2]:gmatch("%d+") do expected[tonumber(code)] = true end
end

function request()
  cursor = cursor % #list + 1
  return list[cursor]
end

function response(status, headers, body)
  if not expected[status] then
    bad = bad + 1
    last_bad = (status .. " " .. (body or ""):sub(1, 200)):gsub("[%c\"\\]", " ")
  end
end

function done(summary, latency, requests)
  local unexpected, sample = 0, ""
  for _, thread in ipairs(threads) do
    unexpected = unexpected + thread:get("bad")
    local s = thread:get("last_bad")
    if s ~= "" then sample = s end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"unexpected":%d,"p50_us":%d,"p99_us":%d,"sample":"%s"}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    unexpected, latency:percentile(50), latency:percentile(99), sample))
end
