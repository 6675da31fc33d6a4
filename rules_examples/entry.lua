-- Runs before every guest syscall.  Its presence turns the watchdog on: the
-- runtime keeps the context ring (c_get_ctx()) and watches for dead loops,
-- idle threads, abnormal exits and fatal signals (docs/watchdog.md).  Here
-- entry() only notices a new watchdog report; returning nothing lets the
-- syscall's own rule and the real syscall run.  (It may also return like
-- do_syscall to intercept.)  Each guest thread has its own Lua state, so
-- the report is taken with c_watchdog_take_report: one thread gets it, and
-- it is logged once.
--
-- It also wires base/bootstrap_fs.lua in: the directories services expect
-- are made at the first syscall of each thread's rules (under the true
-- root), and /etc/*.pem of config/ssl/ at their first use.
local bootstrap = require("base.bootstrap_fs")
local dirs_pending = true

function entry(num, name)
    if dirs_pending then
        dirs_pending = false
        bootstrap.dirs()
    end
    local r = c_watchdog_take_report()   -- nil unless a report not yet taken
    if r then
        c_log(string.format("entry.lua: watchdog report %s (%s)", r.kind, r.path))
    end
end
