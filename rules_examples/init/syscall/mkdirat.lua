-- mkdirat(2), as mkdir.lua.
local L = require("lib.initprep")

function do_syscall(num, dirfd, path, mode)
  return L.mkdir(num, path, mode, dirfd, path, mode)
end
