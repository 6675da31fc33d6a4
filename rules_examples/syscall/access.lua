-- fakefile: a missing path probed with access becomes a fake resource.
local guest = require("plugins.fakefile.guest")

function do_syscall(num, path, ...)
    return guest.probe("access", num, -100, path, {path, ...})
end
