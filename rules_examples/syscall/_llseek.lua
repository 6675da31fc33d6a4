-- fakefile: keeps a fake fd's offset, 32-bit guests' _llseek (nil: a real fd).
function do_syscall(num, fd, hi, lo, result, whence)
    return c_fake_llseek(fd, hi, lo, result, whence)
end
