-- tgkill(2): as tkill.lua (raise() and abort() of the guest itself run).
local life = require("base.proclife")

function do_syscall(num, tgid, tid, sig)
  local kind, what = life.tgkill_verdict(tgid, tid, sig, "tree")
  if not kind then return nil end
  return life.neutralised(kind, what)
end
