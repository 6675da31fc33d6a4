-- fakefile: ioctls on a fake fd go to its state machine first (nil: a real fd).
function do_syscall(num, fd, cmd, arg)
    return c_fake_ioctl(fd, cmd, arg)
end
