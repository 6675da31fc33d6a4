-- Default fakeconfig for device files under /dev (seed: like text, and every
-- ioctl returns 0).
local script_dir = debug.getinfo(1, "S").source:match("@?(.*/)") or ""
local rules_dir = script_dir:gsub("plugins/fakefile/default/?$", "")
local fakefile = require(rules_dir .. "plugins/fakefile")

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
