-- fakefile: a missing path probed with lstat64 becomes a fake resource.
local guest = require("plugins.fakefile.guest")

function do_syscall(num, path, ...)
    return guest.probe("stat", num, -100, path, {path, ...})
end
