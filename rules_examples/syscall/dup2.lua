-- fakefile: the fd table follows a dup onto an fd (what was known of the
-- target is dropped, a fake source stays fake); the real dup2 always runs,
-- and costs no Lua call.
do_syscall = c_fake_syscall
