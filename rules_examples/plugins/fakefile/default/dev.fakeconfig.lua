-- Default fakeconfig for device files under /dev (seed: like text, and every
-- ioctl returns 0).
-- (Module names resolve inside the rules tree; the seed's form,
-- require(rules_dir .. "plugins/fakefile"), works as well.)
local fakefile = require("plugins.fakefile")

return {
  default_state = "init",
  states = {
    init = {
      open = fakefile.default_open,
      read = fakefile.default_read_eof,
      write = fakefile.default_write_discard,
      ioctl = fakefile.default_ioctl_ok,
      truncate = function(ctx) return 0 end,
      getattr = function(ctx) return { size = 0, mode = tonumber("666", 8) } end,
    },
  },
}
