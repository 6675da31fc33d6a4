-- fakefile: keeps a fake fd's offset, 32-bit guests' _llseek (the 64-bit
-- result goes to the result pointer); any other fd gets the real _llseek.
-- c_fake_syscall is this whole rule, in C: for an fd that is not fake the
-- runtime answers without entering Lua.
do_syscall = c_fake_syscall
