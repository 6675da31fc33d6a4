-- fakefile: msync of a shared mapping of a fake writes what the guest
-- changed in it back to its state machine.  With no such mapping the
-- runtime answers without entering Lua (one atomic load).
do_syscall = c_fake_syscall
