-- The NVRAM store as rules reach it: the Broadcom /dev/nvram protocol run by
-- c_fake_call("/dev/nvram", ...) (the same state machine a guest fd on
-- /dev/nvram reaches, through the mount's ring or qemu's engine).  Without
-- c_fake_call (an older runtime), gets fall back to the rules tree's
-- config/nvram.defaults.  docs/firmware-pack.md.
local M = {}

local DEV = "/dev/nvram"
local SPACE = 0x10000
local NVRAM_MAGIC = 0x48534c46
local E = sfemu.big_endian and ">" or "<"
local ENOSYS = sfemu.arch:match("^mips") and 89 or 38
local EIO = 5

M.available = type(c_fake_call) == "function"

local defaults
local function rules_defaults()
    if not defaults then
        defaults = {}
        local text = c_rules_file("config/nvram.defaults") or ""
        for line in text:gmatch("[^\n]+") do
            local k, v = line:match("^%s*([^#=%s][^=]-)%s*=(.*)$")
            if k then defaults[k] = v end
        end
    end
    return defaults
end

-- get(name) -> value, or nil if the key is not set.
function M.get(name)
    if not M.available then return rules_defaults()[name] end
    local key = name .. "\0"
    local r, off = c_fake_call(DEV, "read", { data = key .. string.rep("\0", math.max(0, 4 - #key)),
                                             count = math.max(#key, 4) })
    if r ~= 4 or #off < 4 then return nil end
    local o = string.unpack(E .. "I4", off)
    local r2, space = c_fake_call(DEV, "mmap", { count = SPACE, offset = 0 })
    if not r2 or r2 < 0 or o >= #space then return nil end
    return space:match("^[^%z]*", o + 1)
end

-- getall() -> { {key, value}, ... } in the store's order.
function M.getall()
    local out = {}
    if not M.available then
        for k, v in pairs(rules_defaults()) do out[#out + 1] = { k, v } end
        table.sort(out, function(a, b) return a[1] < b[1] end)
        return out
    end
    local r, all = c_fake_call(DEV, "read", { data = "\0", count = SPACE })
    if not r or r < 0 then return out end
    for kv in all:gmatch("[^%z]+") do
        local k, v = kv:match("^([^=]*)=(.*)$")
        if k then out[#out + 1] = { k, v } end
    end
    return out
end

-- set(name, value): value nil unsets.  -> 0 or -errno
function M.set(name, value)
    if not M.available then return -ENOSYS end
    local data = value and (name .. "=" .. value) or name
    local r = c_fake_call(DEV, "write", { data = data, count = #data })
    return (r and r >= 0) and 0 or (r or -EIO)
end

function M.commit()
    if not M.available then return -ENOSYS end
    local r = c_fake_call(DEV, "ioctl", { cmd = NVRAM_MAGIC })
    return r or -EIO
end

return M
