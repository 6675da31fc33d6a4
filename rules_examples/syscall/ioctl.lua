-- fakefile: ioctls on a fake fd go to its state machine first; any other fd
-- gets the real ioctl.  Interface ioctls (sockios 0x8910-0x89ff, wireless
-- 0x8b00-0x8bff) go to plugins/netif first (docs/firmware-pack.md,
-- "Interfaces").  c_ioctl_route decides in C: any other number on an fd that
-- is not fake runs the real ioctl without entering Lua.
local netif = require("plugins.netif")
do_syscall = c_ioctl_route(netif.ranges, netif.ioctl, c_fake_syscall)
