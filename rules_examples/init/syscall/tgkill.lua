-- tgkill(2): only the calling process itself (raise, abort).
local L = require("lib.initprep")

function do_syscall(num, tgid, tid, sig)
  if tgid == c_do_syscall(c_syscall_num("getpid")) then return nil end
  L.skip(string.format("tgkill %d %d %d", tgid, tid, sig),
         "outside the init script")
  return 0
end
