-- mount(2): a tmpfs or ramfs is an empty directory in the upper layer
-- (made with its missing parents); any other filesystem (proc, sysfs,
-- devices, flash) is skipped.  Both return 0.
local L = require("lib.initprep")

function do_syscall(num, source, target, fstype)
  local t, ty = L.str(target), L.str(fstype)
  if ty == "tmpfs" or ty == "ramfs" then
    local rc = c_mkdir_p(t)
    L.say(string.format("+ mount %s %s (an empty directory%s)", ty, t,
                        rc == 0 and "" or ": error " .. rc))
    return 0
  end
  L.skip(string.format("mount -t %s %s %s", ty, L.str(source), t),
         "device or kernel filesystem")
  return 0
end
