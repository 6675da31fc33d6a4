-- The same policy for openat (what glibc's open() and aarch64 use).
local policy = require("open_policy")

function do_syscall(num, dirfd, pathname, flags, mode, ...)
    return policy(pathname, flags) or c_do_syscall(num, dirfd, pathname, flags, mode, ...)
end
