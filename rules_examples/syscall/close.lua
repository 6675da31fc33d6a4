-- fakefile: forget a fake fd so a reused number is not mistaken for it; the
-- real close then runs.  c_fake_syscall is this whole rule, in C: for an fd
-- that is not fake the runtime answers without entering Lua.
do_syscall = c_fake_syscall
