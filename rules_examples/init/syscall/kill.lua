-- kill(2) reaches only the script's own processes (its process group):
-- `kill -9 -1` or a kill of a host pid by a firmware script run as root is
-- skipped (returns 0).  Signal 0 (a probe) always runs.
local L = require("lib.initprep")

function do_syscall(num, pid, sig)
  local pgid = c_do_syscall(c_syscall_num("getpgid"), 0)
  local target = pid > 0 and c_do_syscall(c_syscall_num("getpgid"), pid) or -pid
  if sig == 0 or pid == 0 or (pid ~= -1 and target == pgid) then
    return nil
  end
  L.skip(string.format("kill -%d %d", sig, pid), "outside the init script")
  return 0
end
