-- Default fakeconfig for unix domain sockets (seed: connect creates no
-- server; the socket fd is taken over by fakefile and connect succeeds: it
-- becomes a managed fake socket (docs/fakefile.md "Fake sockets") whose
-- writes are discarded and whose reads give EOF).  For the
-- old behaviour (a real server the client connects to), use
-- fakefile.default_connect_socket_server(ctx) in a custom fakeconfig.
-- (Module names resolve inside the rules tree; the seed's form,
-- require(rules_dir .. "plugins/fakefile"), works as well.)
local fakefile = require("plugins.fakefile")

return {
  default_state = "init",
  states = {
    init = {
      open = fakefile.default_open,
      connect = fakefile.default_connect_takeover,
      read = fakefile.default_read_eof,
      write = fakefile.default_write_discard,
      getattr = function(ctx) return { size = 0 } end,
    },
  },
}
