-- fakefile: a missing path opened by the guest becomes a fake resource.
local guest = require("plugins.fakefile.guest")

function do_syscall(num, path, flags, ...)
    return guest.open(num, -100, path, flags, {path, flags, ...})
end
