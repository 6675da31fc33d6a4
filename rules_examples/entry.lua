-- Runs before every guest syscall.  Its presence turns the watchdog on: the
-- runtime keeps the context ring (c_get_ctx()) and watches for dead loops,
-- idle threads, abnormal exits and fatal signals (docs/watchdog.md).  Here
-- entry() only notices a new watchdog report; returning nothing lets the
-- syscall's own rule and the real syscall run.  (It may also return like
-- do_syscall to intercept.)  Each guest thread has its own Lua state, so
-- the report is taken with c_watchdog_take_report: one thread gets it, and
-- it is logged once.
--
-- Loading base/bootstrap_fs.lua here wires it into every thread's rules
-- (the open and stat rules' ENOENT path): the directories services expect
-- and /etc/*.pem of config/ssl/ are made at their first use.  (Only when
-- the tree has it: this file copied alone into another tree still works.)
if c_rules_file("base/bootstrap_fs.lua") then require("base.bootstrap_fs") end

function entry(num, name)
    local r = c_watchdog_take_report()   -- nil unless a report not yet taken
    if r then
        c_log(string.format("entry.lua: watchdog report %s (%s)", r.kind, r.path))
    end
end
