-- wrk script of benchmarks/api_scale.py: a closed loop over the request paths and bearer tokens of a spec file
-- (wrk ... -s benchmarks/api_scale.lua URL -- SPEC). The spec has one "path /api/v1/..." or "token <jwt>" per line;
-- each request takes the next path and the next token (every thread starts at its own place in both lists).
-- Non-2xx responses are counted (with the first one kept as a sample); at the end one line "JSON {...}" holds
-- the figures (latencies in microseconds) and one line "SAMPLE ..." the first failure, if any.

local threads = {}

function setup(thread)
  thread:set("start", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  paths, tokens = {}, {}
  non2xx, sample = 0, ""
  local spec = assert(io.open(args[1], "r"))
  for line in spec:lines() do
    local kind, value = line:match("^(%S+) (.+)$")
    if kind == "path" then
      paths[#paths + 1] = value
    elseif kind == "token" then
      tokens[#tokens + 1] = value
    end
  end
  spec:close()
  position = start or 0
end

function request()
  position = position + 1
  local path = paths[position % #paths + 1]
  local token = tokens[position % #tokens + 1]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" })
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if sample == "" then
      sample = tostring(status) .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local failed, first = 0, ""
  for _, thread in ipairs(threads) do
    failed = failed + (thread:get("non2xx") or 0)
    local seen = thread:get("sample")
    if first == "" and seen ~= nil then
      first = seen
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,'
      .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max, errors.connect, errors.read, errors.write, errors.timeout, failed))
  io.write("SAMPLE " .. string.gsub(first, "[\r\n]", " ") .. "\n")
end
