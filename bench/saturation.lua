-- wrk script of bench/saturation (run by bench/saturation.py; see bench/README.md).
--
--   wrk -t N -c N -d 20s --timeout 30s -s bench/saturation.lua http://127.0.0.1:P \
--       -- save CAP DATA DUMP
--   wrk -t N -c N -d 20s --timeout 30s -s bench/saturation.lua http://127.0.0.1:P -- get CAP PATH [ENCODING]
--
-- One connection per thread (-t equal to -c), so that each connection is one focal point: its
-- own Party, workspace and token, saving 20 answers at a time with no pause, each save based on
-- the revisions the previous responses returned (parsed from each 200 response; a 409 gives
-- the current revisions back, and is counted). DATA is a Lua file written by
-- bench/saturation.py: the slots, a few valid JSON values of each, and per Party its workspace,
-- token, rolling-window offset and current revisions. CAP bounds the responses of each thread:
-- a thread stops after CAP responses even if the duration is not over. In save mode, DUMP (the
-- fourth argument) receives, when wrk is done, each connection's acknowledged revision and
-- value choice of every slot it wrote, for bench/saturation.py to check against the database.

local threads = {}
local created = 0

function setup(thread)
  thread:set("id", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  cap = tonumber(args[2])
  responses, ok, conflicts, others, parse_misses = 0, 0, 0, 0, 0
  if mode == "save" then
    local data = dofile(args[3])
    local party = data.parties[id + 1]
    slots, values, batch = data.slots, data.values, data.batch
    index_of = {}
    for i, slot in ipairs(slots) do
      index_of[slot] = i
    end
    revision = {}
    local i = 0
    for r in string.gmatch(party.revisions, "%d+") do
      i = i + 1
      revision[i] = tonumber(r)
    end
    cursor = party.offset
    saves = 0
    workspace = party.workspace
    dump = args[4]
    acked_revision, acked_choice, pending_choice = {}, {}, {}
    path = "/api/v1/workspaces/" .. party.workspace .. "/answers"
    headers = {
      ["Authorization"] = "Bearer " .. party.token,
      ["Content-Type"] = "application/json",
    }
  else
    -- ARGS[4], when given, is sent as Accept-Encoding (e.g. gzip)
    local get_headers = {}
    if args[4] and args[4] ~= "" then
      get_headers["Accept-Encoding"] = args[4]
    end
    static = wrk.format("GET", args[3], get_headers)
  end
end

function request()
  if mode ~= "save" then
    return static
  end
  saves = saves + 1
  local parts = {}
  local n = #slots
  for m = 0, batch - 1 do
    local i = (cursor + m) % n + 1
    local choices = values[i]
    local choice = (saves + i) % #choices + 1
    local value = choices[choice]
    pending_choice[i] = choice
    parts[#parts + 1] = '{"slot":"' .. slots[i] .. '","value":' .. value
      .. ',"base_revision":' .. (revision[i] or 0) .. "}"
  end
  cursor = (cursor + batch) % n
  return wrk.format("PATCH", path, headers, '{"answers":[' .. table.concat(parts, ",") .. "]}")
end

function response(status, headers, body)
  responses = responses + 1
  if status == 200 then
    ok = ok + 1
    if mode == "save" then
      local found = 0
      for slot, rev in string.gmatch(body, '"slot":"([^"]+)","value":.-,"revision":(%d+)') do
        local i = index_of[slot]
        if i then
          revision[i] = tonumber(rev)
          acked_revision[i] = revision[i]
          acked_choice[i] = pending_choice[i]
          found = found + 1
        end
      end
      if found < batch then
        parse_misses = parse_misses + 1
      end
    end
  elseif status == 409 then
    conflicts = conflicts + 1
    if mode == "save" then
      for slot, rev in string.gmatch(body, '"slot":"([^"]+)","current_revision":(%d+)') do
        local i = index_of[slot]
        if i then
          revision[i] = tonumber(rev)
        end
      end
    end
  else
    others = others + 1
  end
  if responses >= cap then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local path = threads[1] and threads[1]:get("dump")
  if path then
    local file = assert(io.open(path, "w"))
    for _, thread in ipairs(threads) do
      local ws = thread:get("workspace")
      local choices = thread:get("acked_choice")
      for i, rev in pairs(thread:get("acked_revision")) do
        file:write(ws, " ", i, " ", rev, " ", choices[i] or 0, "\n")
      end
    end
    file:close()
  end
  local sums = { ok = 0, conflicts = 0, others = 0, parse_misses = 0, responses = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(sums) do
      sums[key] = sums[key] + (thread:get(key) or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f},'
      .. '"ok":%d,"conflicts":%d,"others":%d,"parse_misses":%d,"responses":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    sums.ok, sums.conflicts, sums.others, sums.parse_misses, sums.responses))
end
