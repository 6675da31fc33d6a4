-- tgkill(2): only the calling process itself (raise, abort).
local L = require("lib.initprep")
local life = require("lib.proclife")

function do_syscall(num, tgid, tid, sig)
  if not life.tgkill_verdict(tgid, tid, sig, "group") then return nil end
  L.skip(string.format("tgkill %d %d %d", tgid, tid, sig),
         "outside the init script")
  return 0
end
