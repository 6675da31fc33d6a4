-- V2 pattern 1, monitoring: log before and after the real write.
function do_syscall(num, fd, buf, count, ...)
    c_log(string.format("Writing %d bytes to fd %d", count, fd))
    local ret = c_do_syscall(num, fd, buf, count, ...)
    c_log(string.format("Wrote %d bytes", ret))
    return ret
end
