-- fakefile: a missing path probed with newfstatat becomes a fake resource.
local guest = require("plugins.fakefile.guest")

function do_syscall(num, dirfd, path, ...)
    return guest.probe("stat", num, dirfd, path, {dirfd, path, ...})
end
