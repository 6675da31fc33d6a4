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
--
-- base/ai.lua is AI repair (docs/ai-repair.md): with SFEMU_AI_ENABLE=1 or
-- auto_ai=1 the watchdog's reports start repair attempts.  Off, entry() is
-- the one below it always was: AI costs nothing per syscall.
if c_rules_file("base/bootstrap_fs.lua") then require("base.bootstrap_fs") end
local ai = c_rules_file("base/ai.lua") and require("base.ai") or { enabled = false }

if not ai.enabled then
  function entry(num, name)
    local r = c_watchdog_take_report()   -- nil unless a report not yet taken
    if r then
      c_log(string.format("entry.lua: watchdog report %s (%s)", r.kind, r.path))
    end
  end
else
  function entry(num, name, a1)
    local r = c_watchdog_take_report()
    if ai.pending then ai.tick(num, name, a1) end -- a fix being validated
    if r then
      c_log(string.format("entry.lua: watchdog report %s (%s)", r.kind, r.path))
      ai.on_report(r, num, name, a1)
    end
  end
end
