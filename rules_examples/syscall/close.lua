-- fakefile: forget a fake fd so a reused number is not mistaken for it; the
-- real close then runs.
function do_syscall(num, fd)
    c_fake_close(fd)
end
