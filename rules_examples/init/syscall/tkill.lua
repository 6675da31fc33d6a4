-- tkill(2): only the calling thread itself (raise).
local L = require("lib.initprep")
local life = require("lib.proclife")

function do_syscall(num, tid, sig)
  if not life.tkill_verdict(tid, sig, "group") then return nil end
  L.skip(string.format("tkill %d %d", tid, sig), "outside the init script")
  return 0
end
