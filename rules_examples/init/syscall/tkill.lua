-- tkill(2): only the calling thread itself (raise).
local L = require("lib.initprep")

function do_syscall(num, tid, sig)
  if tid == c_gettid() then return nil end
  L.skip(string.format("tkill %d %d", tid, sig), "outside the init script")
  return 0
end
