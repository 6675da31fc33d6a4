-- Default fakeconfig for device files under /dev (seed: like text, and every
-- ioctl returns 0).  ioctls answer from plugins/fakefile/ioctls.conf, else 0,
-- and a number it does not name is logged and noted for the run record
-- (devioctl.lua); a watchdog (/dev/watchdog*) is served by watchdog.lua.
-- (Module names resolve inside the rules tree; the seed's form,
-- require(rules_dir .. "plugins/fakefile"), works as well.)
local fakefile = require("plugins.fakefile")
local devioctl = require("plugins.fakefile.devioctl")
local watchdog = require("plugins.fakefile.watchdog")

return {
  ioctls = devioctl.declared,
  default_state = "init",
  states = {
    init = {
      open = fakefile.default_open,
      read = fakefile.default_read_eof,
      write = function(ctx)
        if watchdog.is(ctx.path) then return watchdog.write(ctx) end
        return fakefile.default_write_discard(ctx)
      end,
      ioctl = function(ctx)
        if watchdog.is(ctx.path) then return watchdog.ioctl(ctx) end
        return devioctl.answer(ctx)
      end,
      truncate = function(ctx) return 0 end,
      getattr = function(ctx) return { size = 0, mode = tonumber("666", 8) } end,
    },
  },
}
