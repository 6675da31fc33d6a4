-- fakefile: a missing path opened by the guest becomes a fake resource;
-- base/bootstrap_fs.lua makes a missing /etc/*.pem of config/ssl/ first,
-- and a watchdog device is always a fake (base/proclife.lua).
local guest = require("plugins.fakefile.guest")
require("base.bootstrap_fs")
guest.always_fake.watchdog = require("base.proclife").watchdog_fake

function do_syscall(num, path, flags, ...)
    return guest.open(num, -100, path, flags, {path, flags, ...})
end
