-- kill(2) reaches only the script's own processes (its process group):
-- `kill -9 -1` or a kill of a host pid by a firmware script run as root is
-- skipped (returns 0).  Signal 0 (a probe) always runs.  The verdict is
-- lib/proclife.lua's (shared with the default tree), scope "group".
local L = require("lib.initprep")
local life = require("lib.proclife")

function do_syscall(num, pid, sig)
  if not life.kill_verdict(pid, sig, "group") then return nil end
  L.skip(string.format("kill -%d %d", sig, pid), "outside the init script")
  return 0
end
