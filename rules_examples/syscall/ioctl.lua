-- fakefile: ioctls on a fake fd go to its state machine first; any other fd
-- gets the real ioctl.  c_fake_syscall is this whole rule, in C: for an fd
-- that is not fake the runtime answers without entering Lua.
do_syscall = c_fake_syscall
