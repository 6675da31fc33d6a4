-- kill(2) of a service (docs/firmware-pack.md, "Process life"): kill(1, ..),
-- kill(-1, ..) and kills of host processes or process groups outside the
-- guest's own are neutralised (return 0, nothing sent) and logged once per
-- kind.  Its own group, its children and other guest processes: the real call.
local life = require("base.proclife")

function do_syscall(num, pid, sig)
  local kind, what = life.kill_verdict(pid, sig, "tree")
  if not kind then return nil end
  return life.neutralised(kind, what)
end
