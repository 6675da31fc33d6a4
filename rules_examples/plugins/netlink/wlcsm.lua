-- WLCSM (Broadcom's wlcsm library, netlink protocol 31, NETLINK_WLCSM):
-- NVRAM get, set, unset, getall and commit answered from the one NVRAM
-- store, through c_fake_call("/dev/nvram", ...) (plugins/nvram/device.lua).
-- Message layout: docs/firmware-pack.md, "WLCSM".  A message that is not
-- WLCSM gets no answer here (only its ACK, if it asks for one).
local nl = require("plugins.netlink.message")
local nvram = require("plugins.nvram.device")

local M = {}

local E = sfemu.big_endian and ">" or "<"
local SET, GET, UNSET, GETALL, GETALL_DONE, COMMIT = 2, 3, 4, 5, 6, 7
local WHDR = 8
local CHUNK = 2048           -- getall: bytes of key=value\0 per reply

-- A name or value pair: int length (with the NUL; 0: none), bytes padded to 4.
local function pair(s)
    if not s then return string.pack(E .. "i4", 0) end
    local n = #s + 1
    return string.pack(E .. "i4", n) .. s .. "\0" .. string.rep("\0", (4 - n % 4) % 4)
end

-- The string of the pair at pos, and the position after it.
local function read_pair(p, pos)
    if pos + 3 > #p then return nil end
    local n = string.unpack(E .. "i4", p, pos)
    if n <= 0 then return nil, pos + 4 end
    if n > #p - pos - 3 then return nil end
    return p:sub(pos + 4, pos + 2 + n):match("^[^%z]*"), pos + 4 + ((n + 3) & ~3)
end

local function reply(req, portid, typ, payload)
    return nl.build(0, 0, req.seq, portid,
                    string.pack(E .. "I2 I2 I4", typ, #payload, portid) .. payload)
end

local function result(rc) return string.pack(E .. "i4", rc) end

-- request(msg, portid) -> replies, errno: nil when msg is not WLCSM.
function M.request(msg, portid)
    local p = msg.payload
    if #p < WHDR then return nil end
    local typ, len = string.unpack(E .. "I2 I2", p)
    if typ < SET or typ > COMMIT or typ == GETALL_DONE or WHDR + len > #p then
        return nil
    end
    local body = p:sub(WHDR + 1, WHDR + len)
    if typ == GET then
        local name = read_pair(body, 1)
        if not name then return nil end
        return { reply(msg, portid, GET, pair(name) .. pair(nvram.get(name))) }
    elseif typ == SET then
        local name, pos = read_pair(body, 1)
        local value = pos and read_pair(body, pos)
        if not name or name == "" then return nil end
        return { reply(msg, portid, SET, result(nvram.set(name, value or ""))) }
    elseif typ == UNSET then
        local name = read_pair(body, 1)
        if not name or name == "" then return nil end
        return { reply(msg, portid, UNSET, result(nvram.set(name, nil))) }
    elseif typ == COMMIT then
        return { reply(msg, portid, COMMIT, result(nvram.commit())) }
    end
    -- GETALL: key=value\0 strings in chunks of whole entries, then DONE
    local out, chunk, total = {}, {}, 0
    local size = 0
    for _, kv in ipairs(nvram.getall()) do
        local e = kv[1] .. "=" .. kv[2] .. "\0"
        if size + #e > CHUNK and size > 0 then
            out[#out + 1] = reply(msg, portid, GETALL, table.concat(chunk))
            chunk, size = {}, 0
        end
        if #e <= CHUNK then
            chunk[#chunk + 1] = e
            size = size + #e
            total = total + #e
        end
    end
    if size > 0 then out[#out + 1] = reply(msg, portid, GETALL, table.concat(chunk)) end
    out[#out + 1] = reply(msg, portid, GETALL_DONE, result(total))
    return out
end

return M
