-- fakefile: writes to a fake fd go to its state machine; any other fd gets
-- the real write.  A virtual netlink socket (syscall_override_user/
-- socket.lua) is answered as a send.  c_vsock_rule decides in C: for an fd
-- that is neither, the runtime answers without entering Lua.
do_syscall = c_vsock_rule(require("plugins.netlink.virtual").write, c_fake_syscall)
