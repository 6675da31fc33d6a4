-- Default fakeconfig for text / ordinary files (seed: open returns the fake
-- fd, read is always EOF, writes are discarded but report `count`).
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
      truncate = function(ctx) return 0 end,
      getattr = function(ctx) return { size = 0 } end,
    },
  },
}
