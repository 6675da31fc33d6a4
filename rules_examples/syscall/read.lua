-- fakefile: reads of a fake fd come from its state machine (nil: a real fd).
function do_syscall(num, fd, buf, count)
    return c_fake_read(fd, buf, count)
end
