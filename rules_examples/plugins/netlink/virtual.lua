-- Virtual netlink sockets for private protocols the host kernel does not
-- have (Broadcom's 31).  The guest's fd is one end of a host datagram
-- socketpair (c_vsock_new): reads, recv, poll and select are the kernel's.
-- What the guest sends is answered here: each message that asks for an ACK
-- gets NLMSG_ERROR 0, and a protocol handler (WLCSM) may answer too.
-- docs/firmware-pack.md, "Netlink".
local guest = require("plugins.netlink.guest")
local nl = require("plugins.netlink.message")

local M = {}

local AF_NETLINK = 16
local SOCK_CLOEXEC = 0x80000                               -- ARM and MIPS
local SOCK_NONBLOCK = sfemu.arch:match("^mips") and 0x80 or 0x800
local EPROTONOSUPPORT = sfemu.arch:match("^mips") and 120 or 93
local SOL_NETLINK = 270

-- SFEMU_NETLINK_VIRTUAL_ACK: off | auto (default) | on.
local function mode()
    local v = (os.getenv("SFEMU_NETLINK_VIRTUAL_ACK") or "auto"):lower()
    if v == "0" or v == "off" or v == "no" then return "off" end
    if v == "1" or v == "on" or v == "yes" or v == "always" then return "on" end
    if v ~= "auto" and v ~= "" then
        c_log("netlink: SFEMU_NETLINK_VIRTUAL_ACK='" .. v ..
              "' is not off, auto or on: auto is used")
    end
    return "auto"
end
M.mode = mode()

-- The private protocols served, and their handlers (protocol -> module
-- with request(msg, portid) -> replies, errno).
local protocols = {}
for p in (os.getenv("SFEMU_NETLINK_VIRTUAL_PROTOCOLS") or "31"):gmatch("%d+") do
    protocols[tonumber(p)] = true
end
local handlers = { [31] = require("plugins.netlink.wlcsm") }

local logged = false
local function log_once(msg)
    if not logged then
        logged = true
        c_log(msg)
    end
end

-- socket(domain, type, protocol)
function M.socket(num, domain, type, protocol, ...)
    if domain ~= AF_NETLINK or not protocols[protocol] or M.mode == "off" then
        return nil
    end
    if M.mode == "auto" then
        local fd = c_do_syscall(num, domain, type, protocol, ...)
        if fd ~= -EPROTONOSUPPORT then return fd end
    end
    local fd = c_vsock_new(type & SOCK_NONBLOCK ~= 0, type & SOCK_CLOEXEC ~= 0,
                           protocol << 24)     -- not bound: port id set at bind
    if fd >= 0 then
        log_once(string.format("netlink: protocol %d is virtual (fd %d): requests " ..
                 "that ask for an ACK get one (SFEMU_NETLINK_VIRTUAL_ACK=%s)",
                 protocol, fd, M.mode))
    end
    return fd
end

-- c_vsock_portid keeps the protocol in the top byte and the port id below:
-- the kernel's port ids of user sockets are pids (< 2^22).
local function proto_of(fd) return (c_vsock_portid(fd) or 0) >> 24 end
local function port_of(fd) return (c_vsock_portid(fd) or 0) & 0xffffff end

-- The socket's port id, bound at first use as the kernel's autobind does.
local function bound_port(fd)
    local p = port_of(fd)
    if p == 0 then
        p = c_do_syscall(c_syscall_num("getpid"))
        c_vsock_portid(fd, (proto_of(fd) << 24) | p)
    end
    return p
end

-- A datagram the guest sent: every message is answered.
local function answer(fd, data)
    local proto, port = proto_of(fd), bound_port(fd)
    local h = handlers[proto]
    for _, m in ipairs(nl.split(data)) do
        local err, replies = 0, nil
        if h then
            local e
            replies, e = h.request(m, port)
            for _, r in ipairs(replies or {}) do c_vsock_reply(fd, r) end
            err = e or 0
        end
        if m.flags & nl.NLM_F_ACK ~= 0 then
            c_vsock_reply(fd, nl.ack(m, port, err))
        elseif not replies then
            -- for the run record: what the service asked that nobody answers
            c_analysis_note("netlink", string.format(
                "protocol %d: message type 0x%x without NLM_F_ACK got no answer", proto, m.type))
        end
    end
    return #data
end

function M.sendmsg(num, fd, msg, flags)
    local h = guest.msghdr(msg)
    if not h then return -14 end                                -- EFAULT
    return answer(fd, guest.iov_bytes(h.iov, h.iovlen))
end

function M.sendto(num, fd, buf, len, flags, dest, destlen)
    return answer(fd, c_read_bytes(buf, math.min(len, 1 << 16)))
end

function M.send(num, fd, buf, len, flags)
    return answer(fd, c_read_bytes(buf, math.min(len, 1 << 16)))
end

function M.write(num, fd, buf, len)
    return answer(fd, c_read_bytes(buf, math.min(len, 1 << 16)))
end

-- recvmsg/recvfrom: the kernel's, then the source is the netlink kernel
-- (the room for the address is read before: the real call sets it to 0).
function M.recvmsg(num, fd, msg, flags, ...)
    local h = guest.msghdr(msg)
    local r = c_do_syscall(num, fd, msg, flags, ...)
    if r >= 0 and h and h.name ~= 0 then
        guest.put_sockaddr_nl(h.name, h.namelen, 0)
        c_write_guest_u32(h.namelen_at, 12)
    end
    return r
end

function M.recvfrom(num, fd, buf, len, flags, src, srclen, ...)
    local cap, rc = 0, 0
    if src ~= 0 and srclen ~= 0 then cap, rc = c_read_guest_u32(srclen) end
    local r = c_do_syscall(num, fd, buf, len, flags, src, srclen, ...)
    if r >= 0 and src ~= 0 and srclen ~= 0 and rc == 0 then
        guest.put_sockaddr_nl(src, cap, 0)
        c_write_guest_u32(srclen, 12)
    end
    return r
end

-- bind(fd, sockaddr_nl, len): nl_pid 0 picks the pid, as the kernel does.
function M.bind(num, fd, addr, len)
    local pid = guest.nl_pid(addr, len)
    if not pid then return -22 end                              -- EINVAL
    if pid == 0 then
        pid = c_do_syscall(c_syscall_num("getpid"))
    end
    c_vsock_portid(fd, (proto_of(fd) << 24) | (pid & 0xffffff))
    return 0
end

function M.getsockname(num, fd, addr, lenp)
    local cap, rc = c_read_guest_u32(lenp)
    if rc ~= 0 then return -14 end
    guest.put_sockaddr_nl(addr, cap, port_of(fd))
    c_write_guest_u32(lenp, 12)
    return 0
end

M.getpeername = function(num, fd, addr, lenp)
    local cap, rc = c_read_guest_u32(lenp)
    if rc ~= 0 then return -14 end
    guest.put_sockaddr_nl(addr, cap, 0)
    c_write_guest_u32(lenp, 12)
    return 0
end

-- connect to the kernel (nl_pid 0): accepted, as a netlink socket does.
function M.connect(num, fd, addr, len)
    if not guest.nl_pid(addr, len) then return -22 end
    bound_port(fd)
    return 0
end

-- SOL_NETLINK options (membership, ext ack...) are accepted; the rest are
-- the socket's own.
function M.setsockopt(num, fd, level, ...)
    if level == SOL_NETLINK then return 0 end
    return nil
end

-- What each rule of syscall_override_user/ is.
function M.rule(name)
    return c_vsock_rule(M[name])
end

return M
