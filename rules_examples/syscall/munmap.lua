-- fakefile: what the guest wrote in a shared mapping of a fake goes back to
-- its state machine before the mapping goes.  With no such mapping the
-- runtime answers without entering Lua (one atomic load).
do_syscall = c_fake_syscall
