-- fakefile: an mmap of a fake fd shows the bytes its state machine serves
-- (MIPS o32's mmap, offset in bytes; ARM's old one-struct mmap is left
-- alone).  Any other mmap is the real one, answered without entering Lua.
do_syscall = c_fake_syscall
