-- fakefile: writes to a fake fd go to its state machine (nil: a real fd).
function do_syscall(num, fd, buf, count)
    return c_fake_write(fd, buf, count)
end
