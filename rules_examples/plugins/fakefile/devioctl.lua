-- The ioctls of a fake device (docs/firmware-pack.md, "Vendor control
-- devices"): the replies of plugins/fakefile/ioctls.conf, else 0; a number
-- no line names is logged once per device and number with its caller and
-- goes to the run record (fakefile.note).
local fakefile = require("plugins.fakefile")
local M = {}

M.conf = "plugins/fakefile/ioctls.conf"
M.lines = {}     -- { dev = pattern, num = n | nil, type = t, nr = n, result, reply }
M.declared = {}  -- plain numbers with a reply: the fakeconfig's `ioctls`

local function glob(g)
  return "^" .. g:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", "[^/]*") .. "$"
end

local function hex(s)
  if not s then return nil end
  if #s % 2 == 1 or s:find("[^%x]") then return false end
  return (s:gsub("%x%x", function(b) return string.char(tonumber(b, 16)) end))
end

do
  local text = fakefile.host.rules_read and fakefile.host.rules_read(fakefile.rules_dir .. M.conf)
  local n = 0
  for line in (text or ""):gmatch("([^\n]*)\n?") do
    n = n + 1
    line = line:gsub("#.*", "")
    local dev, ioc, res, rep = line:match("^%s*(%S+)%s+(%S+)%s+(%S+)%s*(%S*)%s*$")
    local e = dev and { dev = glob(dev), result = math.tointeger(tonumber(res)),
                        reply = hex(rep ~= "" and rep or nil) }
    if e then
      local t, nr = ioc:match("^(.)%.(%d+)$")
      if t then
        e.type, e.nr = t:byte(), tonumber(nr)
      else
        e.num = math.tointeger(tonumber(ioc))
      end
    end
    if e and dev:sub(1, 1) == "/" and e.result and e.reply ~= false and
       (e.num or e.type) then
      M.lines[#M.lines + 1] = e
      if e.num and e.reply then
        M.declared[e.num] = { size = #e.reply, dir = "rw" }
      end
    elseif line:find("%S") then
      fakefile.log(string.format("%s:%d: expected DEVICE IOCTL RESULT [HEXBYTES]: ignored",
                                 M.conf, n))
    end
  end
end

function M.answer(ctx)
  local cmd = ctx.cmd & 0xffffffff
  for _, e in ipairs(M.lines) do
    if ctx.path:match(e.dev) and
       (e.num and (e.num & 0xffffffff) == cmd or
        e.type and ((cmd >> 8) & 0xff) == e.type and (cmd & 0xff) == e.nr) then
      if e.reply then ctx.reply = e.reply end
      return e.result
    end
  end
  ctx.store.unknown = ctx.store.unknown or {}
  if not ctx.store.unknown[cmd] then
    ctx.store.unknown[cmd] = true
    local t = (cmd >> 8) & 0xff
    local text = string.format("unknown ioctl 0x%08x (type '%s', nr %d) on %s " ..
      "from pid %d: answered 0 (set a reply in %s)", cmd,
      (t >= 0x20 and t < 0x7f) and string.char(t) or string.format("\\x%02x", t),
      cmd & 0xff, ctx.path, ctx.pid or -1, M.conf)
    if fakefile.note then fakefile.note(ctx, text) else fakefile.log(text) end
  end
  return 0
end

return M
