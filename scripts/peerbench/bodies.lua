-- wrk script of scripts/peerbench.sh: POSTs the request bodies of a file
-- (one JSON body per line) in turn, each thread starting at its own place
-- in the cycle. The requests are formatted once, at start, so that wrk
-- spends as little as it can per request (it shares the cores with the
-- server under test).
--
--   wrk -t2 -c50 -d10s --latency -s bodies.lua http://127.0.0.1:8080/query -- FILE [TAG]
--
-- With TAG, every request's URL also carries a query parameter n that no
-- other request of the run (nor of another run with another TAG) has:
-- ?n=TAG-<thread>-<count>. The servers ignore it, but the gateway's
-- response cache keys on the whole request, URL included, so each request
-- is one it has never seen, as a frontend's varied queries would be.

local threads = 0

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

local requests = {} -- whole requests, or the part after the URL with TAG
local prefix = nil -- "POST /path?n=TAG-<thread>-" with TAG
local count = 0
local next_index = 0

function init(args)
  local file, tag = args[1], args[2]
  if file == nil then
    error("bodies.lua: give the file of request bodies after --")
  end
  local headers = { ["Content-Type"] = "application/json" }
  local marker = "/__peerbench_path__"
  for line in io.lines(file) do
    if line ~= "" then
      if tag then
        -- Keep what follows the path; the path is written per request.
        local req = wrk.format("POST", marker, headers, line)
        local at = string.find(req, marker, 1, true)
        requests[#requests + 1] = string.sub(req, at + #marker)
      else
        requests[#requests + 1] = wrk.format("POST", nil, headers, line)
      end
    end
  end
  if #requests == 0 then
    error("bodies.lua: " .. file .. " holds no request body")
  end
  if tag then
    local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
    prefix = "POST " .. wrk.path .. sep .. "n=" .. tag .. "-" .. (thread_index or 0) .. "-"
  end
  -- Spread the threads over the cycle (thread_index is set by setup).
  next_index = ((thread_index or 0) * 17) % #requests
end

function request()
  next_index = next_index % #requests + 1
  if prefix then
    count = count + 1
    return prefix .. count .. requests[next_index]
  end
  return requests[next_index]
end
