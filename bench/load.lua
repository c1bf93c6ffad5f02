-- wrk script for make bench: one page of the portal, requested by many different patients in turn.
--
--   wrk -t1 -c4 -d15s -s bench/load.lua http://127.0.0.1:8011 -- PAGE SESSIONS_FILE
--
-- PAGE is healthz, tips, today, tick, progress, check-in or admin. SESSIONS_FILE holds the sessions that
-- `manage.py bench_clinic --sessions` wrote: role, session key, CSRF secret, step id to tick, date. Every request
-- goes out as the TLS proxy would forward it (X-Forwarded-Proto: https). A tick is a POST with the CSRF secret
-- as both cookie and X-CSRFToken header, the Origin a browser sends, and HX-Request as htmx sends it; it sets the
-- count to 1 and, the next time that patient comes round, back to 0 (insert, then delete).
-- At the end it prints one line: RESULT {json}.

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_number", thread_count)
   table.insert(threads, thread)
end

local page, origin
local sessions = {}
local position = 0
local statuses = {}
bad = 0

function init(args)
   page = args[1]
   local role = (page == "admin") and "clinician" or "patient"
   if page ~= "healthz" then
      for line in io.lines(args[2]) do
         local r, key, csrf, step, date = line:match("^(%S+)\t(%S+)\t(%S+)\t(%S+)\t(%S+)$")
         if r == role then
            table.insert(sessions, { key = key, csrf = csrf, step = step, date = date, count = 1 })
         end
      end
      if #sessions == 0 then
         error("no " .. role .. " sessions in " .. args[2])
      end
   end
   origin = "https://" .. wrk.host .. ":" .. wrk.port
   -- Threads start at different places in the list, so no two ask for the same patient at once.
   position = ((thread_number or 1) - 1) * 997
end

local paths = {
   healthz = "/healthz",
   tips = "/tips/",
   today = "/today/",
   progress = "/progress/",
   ["check-in"] = "/check-in/",
   admin = "/admin/recovery/recoveryplan/",
}

function request()
   local headers = { ["X-Forwarded-Proto"] = "https" }
   if page == "healthz" then
      return wrk.format("GET", "/healthz", headers)
   end
   position = position + 1
   local s = sessions[(position % #sessions) + 1]
   headers["Cookie"] = "sessionid=" .. s.key .. "; csrftoken=" .. s.csrf
   if page == "tick" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      headers["X-CSRFToken"] = s.csrf
      headers["Origin"] = origin
      headers["HX-Request"] = "true"
      local body = "date=" .. s.date .. "&count=" .. s.count
      s.count = 1 - s.count
      return wrk.format("POST", "/today/steps/" .. s.step .. "/tick/", headers, body)
   end
   return wrk.format("GET", paths[page], headers)
end

function response(status, headers, body)
   if status ~= 200 then
      bad = bad + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local wrong = 0
   for _, thread in ipairs(threads) do
      wrong = wrong + (thread:get("bad") or 0)
   end
   local errors = summary.errors
   io.write(string.format(
      'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, '
         .. '"max_us": %d, "mean_us": %.1f, "not_200": %d, "socket_errors": %d, "timeouts": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency.max, latency.mean, wrong,
      errors.connect + errors.read + errors.write, errors.timeout
   ))
end
