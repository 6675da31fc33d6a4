-- Guest memory layouts the netlink rules read and write: msghdr, iovec and
-- sockaddr_nl, in the guest's byte order and word size (ARM and MIPS o32:
-- 32-bit; aarch64: 64-bit).  docs/firmware-pack.md, "Netlink".
local M = {}

local E = sfemu.big_endian and ">" or "<"
local W = (sfemu.abi_bits or 32) == 64 and 8 or 4
local WORD = E .. (W == 8 and "i8" or "i4")
M.E, M.W = E, W

local AF_NETLINK = 16
local IO_MAX = 1 << 16     -- bytes of one request looked at

-- The bytes of an iovec array (count entries at iov), at most IO_MAX.
function M.iov_bytes(iov, count)
    local parts, total = {}, 0
    for i = 0, math.min(count, 64) - 1 do
        local e = c_read_bytes(iov + i * 2 * W, 2 * W)
        if #e < 2 * W then break end
        local base, len = string.unpack(WORD .. WORD:sub(2), e)
        len = math.min(len, IO_MAX - total)
        if len > 0 then
            local d = c_read_bytes(base, len)
            parts[#parts + 1] = d
            total = total + #d
        end
    end
    return table.concat(parts)
end

-- struct msghdr: name, namelen, iov, iovlen, control, controllen, flags.
function M.msghdr(addr)
    local b = c_read_bytes(addr, W == 8 and 56 or 28)
    if W == 8 and #b == 56 then
        local name, namelen, iov, iovlen = string.unpack(E .. "i8 I4 xxxx i8 i8", b)
        return { name = name, namelen = namelen, iov = iov, iovlen = iovlen,
                 namelen_at = addr + 8 }
    elseif W == 4 and #b == 28 then
        local name, namelen, iov, iovlen = string.unpack(E .. "i4 I4 i4 i4", b)
        return { name = name, namelen = namelen, iov = iov, iovlen = iovlen,
                 namelen_at = addr + 4 }
    end
    return nil
end

-- struct sockaddr_nl for a port id (nl_family, nl_pad, nl_pid, nl_groups).
function M.sockaddr_nl(portid)
    return string.pack(E .. "I2 I2 I4 I4", AF_NETLINK, 0, portid, 0)
end

-- Writes a sockaddr_nl at addr (at most cap bytes); the full size is 12.
function M.put_sockaddr_nl(addr, cap, portid)
    if addr ~= 0 and cap > 0 then
        c_write_bytes(addr, M.sockaddr_nl(portid):sub(1, cap))
    end
end

-- The nl_pid of a sockaddr_nl at addr, or nil if it is not one.
function M.nl_pid(addr, len)
    if addr == 0 or len < 12 then return nil end
    local b = c_read_bytes(addr, 12)
    if #b < 12 then return nil end
    local fam, _, pid = string.unpack(E .. "I2 I2 I4", b)
    if fam ~= AF_NETLINK then return nil end
    return pid
end

return M
