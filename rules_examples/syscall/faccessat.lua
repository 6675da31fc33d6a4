-- fakefile: a missing path probed with faccessat becomes a fake resource.
local guest = require("plugins.fakefile.guest")

function do_syscall(num, dirfd, path, ...)
    return guest.probe("access", num, dirfd, path, {dirfd, path, ...})
end
