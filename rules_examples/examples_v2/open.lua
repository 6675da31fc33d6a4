-- V2 pattern 5, conditional forwarding (policy in open_policy.lua).
local policy = require("open_policy")

function do_syscall(num, pathname, flags, mode, ...)
    return policy(pathname, flags) or c_do_syscall(num, pathname, flags, mode, ...)
end
