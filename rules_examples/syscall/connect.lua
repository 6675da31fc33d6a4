-- fakefile: AF_UNIX connect to a missing socket becomes a fake socket.
local guest = require("plugins.fakefile.guest")

function do_syscall(num, fd, addr, addrlen, ...)
    return guest.connect(num, fd, addr, addrlen, {fd, addr, addrlen, ...})
end
