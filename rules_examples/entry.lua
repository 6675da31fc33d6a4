-- Runs before every guest syscall.  Its presence turns the watchdog on: the
-- runtime keeps the context ring (c_get_ctx()) and watches for dead loops,
-- idle threads, abnormal exits and fatal signals (docs/watchdog.md).  Here
-- entry() only notices a new watchdog report; returning nothing lets the
-- syscall's own rule and the real syscall run.  (It may also return like
-- do_syscall to intercept.)
local last_seen = 0

function entry(num, name)
    local r = c_watchdog_last_report(last_seen)   -- nil unless a new report
    if r then
        last_seen = r.seq
        c_log(string.format("entry.lua: watchdog report %s (%s)", r.kind, r.path))
    end
end
