-- ioctl(2) requests of the socket layer (0x89xx: interfaces, routes,
-- bridges, as ifconfig and brctl issue them) are skipped (return 0).
local L = require("lib.initprep")

function do_syscall(num, fd, req)
  if (req & 0xff00) == 0x8900 then
    L.skip(string.format("ioctl 0x%x on fd %d", req & 0xffffffff, fd),
           "network configuration")
    return 0
  end
end
