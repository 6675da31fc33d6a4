-- fakefile: AF_UNIX connect to a missing socket becomes a fake socket.
-- A virtual netlink socket (syscall_override_user/socket.lua) connects to
-- the kernel.
local guest = require("plugins.fakefile.guest")
local vnet = require("plugins.netlink.virtual")

function do_syscall(num, fd, addr, addrlen, ...)
    if c_vsock_portid(fd) then return vnet.connect(num, fd, addr, addrlen) end
    return guest.connect(num, fd, addr, addrlen, {fd, addr, addrlen, ...})
end
