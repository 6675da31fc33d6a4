-- V2 pattern 3, policy: raw sockets are refused (they need root), all
-- network sockets too with SFEMU_SOCKET_BLOCK_ALL=1; unix sockets pass.
local AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
local SOCK_RAW = 3                     -- the same on ARM and MIPS
local block_all = os.getenv("SFEMU_SOCKET_BLOCK_ALL") == "1"

function do_syscall(num, domain, type, protocol, ...)
    local base_type = type & 0xf       -- strip SOCK_NONBLOCK/SOCK_CLOEXEC
    if domain == AF_INET or domain == AF_INET6 then
        if block_all then
            c_log("Blocked network socket creation")
            return -1                  -- -EPERM
        end
        if base_type == SOCK_RAW then
            c_log("Blocked raw socket")
            return -1
        end
    end
    return c_do_syscall(num, domain, type, protocol, ...)
end
