-- wrk script: GET each path in the file named by the first script
-- argument, cycling through them with Accept: application/json, each
-- thread starting at its own offset. The requests are formatted once, in
-- init, so that the client's cost per request is the same whatever the
-- path: bench/verify.sh runs both routes it compares (/healthz and
-- /v/<token>) through this script.
local requests = {}
local i = 0
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end

function init(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("GET", line, { ["Accept"] = "application/json" })
  end
  i = (offset or 0) % #requests
end

function request()
  i = i % #requests + 1
  return requests[i]
end
