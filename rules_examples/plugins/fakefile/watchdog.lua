-- A watchdog device as the fake behind /dev/watchdog* (docs/firmware-pack.md,
-- "Process life"): a firmware service pings it so that the board does not
-- reboot; here nothing is armed.  Writes are accepted and dropped, WDIOC_*
-- ioctls answer as a driver would (the timeout set is the timeout read),
-- and each kind of call is logged once per device with its caller.
local fakefile = require("plugins.fakefile")
local M = {}

-- The ioctl numbers' type and number (the same bits in ARM's and MIPS's
-- _IOC encodings; only the direction and size bits differ).
local W = 0x57
local NAMES = { [0] = "WDIOC_GETSUPPORT", "WDIOC_GETSTATUS",
  "WDIOC_GETBOOTSTATUS", "WDIOC_GETTEMP", "WDIOC_SETOPTIONS",
  "WDIOC_KEEPALIVE", "WDIOC_SETTIMEOUT", "WDIOC_GETTIMEOUT",
  "WDIOC_SETPRETIMEOUT", "WDIOC_GETPRETIMEOUT", "WDIOC_GETTIMELEFT" }
-- WDIOF_SETTIMEOUT | WDIOF_MAGICCLOSE | WDIOF_KEEPALIVEPING
local OPTIONS = 0x80 | 0x100 | 0x8000

function M.is(path)
  return path:match("^/dev/watchdog%d*$") ~= nil or path == "/dev/misc/watchdog"
end

local function int(ctx, v)
  return string.pack(ctx.byteorder == "big" and ">i4" or "<i4", v)
end

local function once(ctx, kind, what)
  ctx.store.logged = ctx.store.logged or {}
  if ctx.store.logged[kind] then return end
  ctx.store.logged[kind] = true
  local text = string.format("proclife: neutralised %s on the watchdog %s " ..
    "from pid %d: nothing armed (further %s calls are not logged)",
    what, ctx.path, ctx.pid or -1, kind)
  if fakefile.note then fakefile.note(ctx, text) else fakefile.log(text) end
end

function M.write(ctx)
  local n = ctx.count or #(ctx.data or "")
  once(ctx, "write", string.format("a write of %d bytes", n))
  return n
end

function M.ioctl(ctx)
  local cmd = ctx.cmd & 0xffffffff
  local name = ((cmd >> 8) & 0xff) == W and NAMES[cmd & 0xff]
  if not name then
    once(ctx, "ioctl", string.format("ioctl 0x%08x", cmd))
    return 0
  end
  once(ctx, name, name)
  local timeout = ctx.store.timeout or 60
  if name == "WDIOC_GETSUPPORT" then      -- struct watchdog_info
    local ident = "SFEmu watchdog (fake)"
    return fakefile.reply_ioctl_bytes(ctx, int(ctx, OPTIONS) .. int(ctx, 0) ..
                                      ident .. string.rep("\0", 32 - #ident))
  elseif name == "WDIOC_SETTIMEOUT" and #(ctx.arg or "") >= 4 then
    timeout = string.unpack(ctx.byteorder == "big" and ">i4" or "<i4", ctx.arg)
    ctx.store.timeout = timeout
    return fakefile.reply_ioctl_bytes(ctx, int(ctx, timeout))
  elseif name == "WDIOC_GETTIMEOUT" or name == "WDIOC_GETTIMELEFT" then
    return fakefile.reply_ioctl_bytes(ctx, int(ctx, timeout))
  elseif name == "WDIOC_GETSTATUS" or name == "WDIOC_GETBOOTSTATUS" or
         name == "WDIOC_GETTEMP" or name == "WDIOC_GETPRETIMEOUT" then
    return fakefile.reply_ioctl_bytes(ctx, int(ctx, 0))
  end
  return 0                                  -- KEEPALIVE, SETOPTIONS ...
end

return M
