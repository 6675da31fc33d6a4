-- getsockname on a virtual netlink socket (socket.lua; docs/firmware-pack.md,
-- "Netlink").  Any other fd: the real call, decided in C without Lua.
do_syscall = require("plugins.netlink.virtual").rule("getsockname")
