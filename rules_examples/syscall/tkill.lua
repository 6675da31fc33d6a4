-- tkill(2): a thread of pid 1 or of a host process is never signalled
-- (docs/firmware-pack.md, "Process life"); the guest's own threads are.
local life = require("base.proclife")

function do_syscall(num, tid, sig)
  local kind, what = life.tkill_verdict(tid, sig, "tree")
  if not kind then return nil end
  return life.neutralised(kind, what)
end
