-- mkdir(2), logged.  A root ships /var -> /tmp/var and no /tmp: mkdir -p
-- /var/run first makes "/var/", which fails on the dangling link; the
-- link's target is made instead (c_mkdir_p follows it inside the root).
local L = require("lib.initprep")

function do_syscall(num, path, mode)
  return L.mkdir(num, path, mode, path, mode)
end
