-- fakefile: an mmap2 of a fake fd shows the bytes its state machine serves
-- (an emulated mapping, docs/fakefile.md "mmap"); any other mmap2 is the
-- real one, answered without entering Lua.
do_syscall = c_fake_syscall
