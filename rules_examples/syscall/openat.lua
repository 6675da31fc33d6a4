-- fakefile: as open.lua, for openat (glibc's open(), aarch64).
local guest = require("plugins.fakefile.guest")
require("base.bootstrap_fs")
guest.always_fake.watchdog = require("base.proclife").watchdog_fake

function do_syscall(num, dirfd, path, flags, ...)
    return guest.open(num, dirfd, path, flags, {dirfd, path, flags, ...})
end
