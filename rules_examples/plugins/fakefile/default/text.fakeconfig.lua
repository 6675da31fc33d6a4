-- Default fakeconfig for text / ordinary files (seed: open returns the fake
-- fd, read is always EOF, writes are discarded but report `count`).
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
      truncate = function(ctx) return 0 end,
      getattr = function(ctx) return { size = 0 } end,
    },
  },
}
