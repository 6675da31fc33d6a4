-- Netlink messages (struct nlmsghdr: len, type, flags, seq, pid; 16 bytes,
-- payloads aligned to 4), in the guest's byte order.
local M = {}

local E = sfemu.big_endian and ">" or "<"
M.HDR = 16
M.NLMSG_ERROR = 2
M.NLMSG_DONE = 3
M.NLM_F_REQUEST = 0x1
M.NLM_F_ACK = 0x4

local function align(n) return (n + 3) & ~3 end
M.align = align

-- Every message of a datagram: { len, type, flags, seq, pid, payload }.
function M.split(data)
    local out, off = {}, 1
    while off + M.HDR - 1 <= #data do
        local len, typ, flags, seq, pid = string.unpack(E .. "I4 I2 I2 I4 I4", data, off)
        if len < M.HDR or off + len - 1 > #data then break end
        out[#out + 1] = { len = len, type = typ, flags = flags, seq = seq, pid = pid,
                          payload = data:sub(off + M.HDR, off + len - 1),
                          header = data:sub(off, off + M.HDR - 1) }
        off = off + align(len)
    end
    return out
end

-- One message: header + payload (padded to 4).
function M.build(typ, flags, seq, pid, payload)
    payload = payload or ""
    local len = M.HDR + #payload
    return string.pack(E .. "I4 I2 I2 I4 I4", len, typ, flags, seq, pid) ..
           payload .. string.rep("\0", align(len) - len)
end

-- The kernel's acknowledgement of req: NLMSG_ERROR with error 0 and the
-- request's header (as netlink_ack sends for a success), to port portid.
function M.ack(req, portid, err)
    return M.build(M.NLMSG_ERROR, 0, req.seq, portid,
                   string.pack(E .. "i4", err or 0) .. req.header)
end

return M
