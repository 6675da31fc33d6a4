-- fakefile: reads of a fake fd come from its state machine; any other fd
-- gets the real read.  c_fake_syscall is this whole rule, in C: for an fd
-- that is not fake the runtime answers without entering Lua.
do_syscall = c_fake_syscall
