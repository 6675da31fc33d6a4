-- Interface ioctls for the firmware's interfaces (br0, eth0, lo, wl0 ...),
-- answered from config/netif.conf, whose values may come from NVRAM
-- (lan_ipaddr, lan_netmask, lan_hwaddr).  An interface the config does not
-- name gets the real answer.  Bridge and wireless ioctls, and private ones
-- no fake device answers, are "not supported" (EOPNOTSUPP), as on a kernel
-- without those drivers.  docs/firmware-pack.md, "Interfaces".
local nvram = require("plugins.nvram.device")

local M = {}

local E = sfemu.big_endian and ">" or "<"
local W = (sfemu.abi_bits or 32) == 64 and 8 or 4
local IFREQ = W == 8 and 40 or 32
local mips = sfemu.arch:match("^mips") ~= nil
local EOPNOTSUPP = mips and 122 or 95
local EADDRNOTAVAIL = mips and 126 or 99
local ENODEV = 19
local EFAULT = 14
local CONF = "config/netif.conf"

local SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS = 0x8910, 0x8912, 0x8913
local SIOCGIFADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK = 0x8915, 0x8919, 0x891b
local SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX = 0x8921, 0x8927, 0x8933
local SETTERS = { [0x8914] = "flags", [0x8916] = "addr", [0x8918] = "dstaddr",
                  [0x891a] = "broadcast", [0x891c] = "netmask", [0x8922] = "mtu",
                  [0x8924] = "hwaddr" }

-- The ioctl numbers routed here (c_ioctl_route): sockios and wireless.
M.ranges = { { 0x8910, 0x89ff }, { 0x8b00, 0x8bff } }

local FLAG_BITS = { up = 0x1, broadcast = 0x2, debug = 0x4, loopback = 0x8,
                    pointopoint = 0x10, running = 0x40, noarp = 0x80,
                    promisc = 0x100, allmulti = 0x200, multicast = 0x1000 }

local function unsupported(cmd)
    return (cmd >= 0x8940 and cmd <= 0x8941)      -- SIOCGIFBR, SIOCSIFBR
        or (cmd >= 0x89a0 and cmd <= 0x89a3)      -- SIOCBRADDBR .. SIOCBRDELIF
        or (cmd >= 0x89f0 and cmd <= 0x89ff)      -- SIOCDEVPRIVATE + n
        or (cmd >= 0x8b00 and cmd <= 0x8bff)      -- wireless, SIOCIWFIRSTPRIV + n
end

-- config/netif.conf: "NAME key=value ...", parsed once per thread.
local conf, order
local KEYS = { index = true, addr = true, netmask = true, broadcast = true,
               hwaddr = true, mtu = true, flags = true }
local function load_conf()
    if conf then return end
    conf, order = {}, {}
    local text, err = c_rules_file(CONF)
    if not text then
        c_log("netif: " .. CONF .. ": cannot read it (" .. tostring(err) ..
              "): every interface gets the real answers")
        return
    end
    local n = 0
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do
        n = n + 1
        line = line:gsub("#.*", "")
        local name, rest = line:match("^%s*(%S+)(.*)$")
        if name then
            local ok, e = #name < 16, "interface name longer than 15 characters"
            local i = { name = name }
            for word in rest:gmatch("%S+") do
                local k, v = word:match("^(%w+)=(.*)$")
                if not k or not KEYS[k] then
                    ok, e = false, "'" .. word .. "' is not key=value with a key of " ..
                                   "index, addr, netmask, broadcast, hwaddr, mtu, flags"
                    break
                end
                i[k] = v
            end
            if ok and i.flags then
                for f in i.flags:gmatch("[^,]+") do
                    if not FLAG_BITS[f] then
                        ok, e = false, "unknown flag '" .. f .. "'"
                    end
                end
            end
            if ok and conf[name] then ok, e = false, "interface named twice" end
            if ok then
                conf[name] = i
                order[#order + 1] = name
                i.index = tonumber(i.index) or (name == "lo" and 1 or 100 + #order)
            else
                c_log(string.format("netif: %s:%d: %s: line ignored", CONF, n, e))
            end
        end
    end
end

-- A value of the config: "nvram:KEY|DEFAULT" reads NVRAM (cached 1 s).
local cache, cache_at = {}, -1
local function value(v)
    if not v then return nil end
    local key, dflt = v:match("^nvram:([^|]+)|?(.*)$")
    if not key then return v end
    local now = c_get_timestamp()
    if now ~= cache_at then cache, cache_at = {}, now end
    if cache[key] == nil then cache[key] = nvram.get(key) or false end
    local got = cache[key]
    if got and got ~= "" then return got end
    return dflt ~= "" and dflt or nil
end

local function ipv4(s)
    if not s or s == "none" then return nil end
    local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
    if not (a and a < 256 and b < 256 and c < 256 and d < 256) then return nil end
    return (a << 24) | (b << 16) | (c << 8) | d
end

local function mac(s)
    local bytes = {}
    for h in (s or ""):gmatch("%x%x") do bytes[#bytes + 1] = tonumber(h, 16) end
    if #bytes ~= 6 then return nil end
    return string.char(table.unpack(bytes))
end

local function flags_of(i)
    local f = i.flags or (i.name == "lo" and "up,loopback,running")
              or "up,broadcast,running,multicast"
    local bits = 0
    for w in f:gmatch("[^,]+") do bits = bits | (FLAG_BITS[w] or 0) end
    return bits
end

local function sockaddr_in(a)
    return string.pack(E .. "I2", 2) .. string.pack(">I2 I4", 0, a) .. string.rep("\0", 8)
end

-- The union part of an ifreq (16 bytes) for cmd on interface i, or -errno.
local function answer(cmd, i)
    if cmd == SIOCGIFADDR or cmd == SIOCGIFNETMASK or cmd == SIOCGIFBRDADDR then
        local a = ipv4(value(i.addr))
        if not a then return -EADDRNOTAVAIL end
        local m = ipv4(value(i.netmask)) or (i.name == "lo" and 0xff000000 or 0xffffff00)
        if cmd == SIOCGIFADDR then return sockaddr_in(a) end
        if cmd == SIOCGIFNETMASK then return sockaddr_in(m) end
        return sockaddr_in(ipv4(value(i.broadcast)) or ((a & m) | (~m & 0xffffffff)))
    elseif cmd == SIOCGIFHWADDR then
        local lo = i.name == "lo"
        local hw = mac(value(i.hwaddr)) or (lo and string.rep("\0", 6)) or
                   string.char(0x02, 0x53, 0x46, 0, 0, i.index & 0xff)
        return string.pack(E .. "I2", lo and 772 or 1) .. hw .. string.rep("\0", 8)
    elseif cmd == SIOCGIFFLAGS then
        return string.pack(E .. "i2", flags_of(i))
    elseif cmd == SIOCGIFMTU then
        return string.pack(E .. "i4", tonumber(value(i.mtu)) or (i.name == "lo" and 65536 or 1500))
    elseif cmd == SIOCGIFINDEX then
        return string.pack(E .. "i4", i.index)
    end
    return nil
end

-- SIOCGIFCONF: the configured interfaces that have an address, then the
-- host's that the config does not name.
local function ifconf(num, fd, cmd, arg)
    local hdr = c_read_bytes(arg, W == 8 and 16 or 8)
    if #hdr == 0 then return -EFAULT end
    local cap, buf = string.unpack(E .. "i4" .. (W == 8 and "xxxx i8" or "i4"), hdr)
    local ours = {}
    for _, name in ipairs(order) do
        local a = ipv4(value(conf[name].addr))
        if a then ours[#ours + 1] = name .. string.rep("\0", 16 - #name) .. sockaddr_in(a) ..
                                    string.rep("\0", IFREQ - 32) end
    end
    local r = c_do_syscall(num, fd, cmd, arg)
    if r < 0 then return r end
    local len = c_read_guest_u32(arg)
    if buf == 0 then
        c_write_guest_u32(arg, len + #ours * IFREQ)
        return r
    end
    local real = c_read_bytes(buf, len)
    for off = 1, #real - IFREQ + 1, IFREQ do
        local e = real:sub(off, off + IFREQ - 1)
        if not conf[e:match("^[^%z]*")] then ours[#ours + 1] = e end
    end
    local n = math.min(#ours, cap // IFREQ)
    c_write_bytes(buf, table.concat(ours, "", 1, n))
    c_write_guest_u32(arg, n * IFREQ)
    return r
end

-- The handler of ioctl.lua's route: a result, or nil for the real ioctl.
function M.ioctl(num, fd, cmd, arg)
    cmd = cmd & 0xffffffff
    if unsupported(cmd) then
        local r = c_fake_ioctl(fd, cmd, arg)   -- a fake device answers its own
        if r ~= nil then return r end
        return -EOPNOTSUPP
    end
    load_conf()
    if cmd == SIOCGIFCONF then return ifconf(num, fd, cmd, arg) end
    if cmd == SIOCGIFNAME then
        local idx, rc = c_read_guest_u32(arg + 16)
        if rc ~= 0 then return -EFAULT end
        for _, name in ipairs(order) do
            if conf[name].index == idx then
                c_write_bytes(arg, name .. string.rep("\0", 16 - #name))
                return 0
            end
        end
        return nil
    end
    local raw = c_read_bytes(arg, 16)
    if #raw < 16 then return nil end
    local i = conf[raw:match("^[^%z]*")]
    if not i then return nil end
    if SETTERS[cmd] then return 0 end      -- accepted; the config stays as it is
    local reply = answer(cmd, i)
    if reply == nil then return nil end
    if type(reply) == "number" then return reply end
    local _, wrc = c_write_bytes(arg + 16, reply)
    return wrc == 0 and 0 or -EFAULT
end

return M
