-- fakefile: keeps a fake fd's offset (nil: a real fd).
function do_syscall(num, fd, off, whence)
    return c_fake_lseek(fd, off, whence)
end
