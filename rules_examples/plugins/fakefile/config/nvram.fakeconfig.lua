-- fakefile-path: /dev/nvram
-- /dev/nvram as Broadcom's driver serves it (docs/firmware-pack.md, "NVRAM"),
-- backed by the key store plugins/nvram/store.lua:
--   mmap  NVRAM_SPACE bytes of "key=value\0" strings
--   read  buffer "name\0..." -> 4 bytes: the offset of the value in the
--         mapping (guest byte order), returns 4; unknown name -> 0;
--         buffer starting with "\0" -> getall: "k=v\0...\0\0" in the buffer,
--         returns count
--   write "k=v" -> set, "k" -> unset (returns count)
--   ioctl NVRAM_MAGIC -> commit (0); any other number -> EINVAL
-- The shell (cat on the mount, no reader's buffer) reads the store's text,
-- and may write "k=v" lines.
local fakefile = require("plugins.fakefile")
local store = require("plugins.nvram.store")

local NVRAM_SPACE = 0x10000
local NVRAM_MAGIC = 0x48534c46
local EINVAL, EIO = 22, 5

-- The mapping's layout lives in ctx.store: slots {key, value, cap, off} in
-- mapping order.  A key keeps its offset while it lives and its value fits
-- its slot, so a process that mapped before a change still finds every
-- other value where it was; a longer value moves to a new slot at the end
-- (the old slot keeps its bytes: an old pointer still reads the old value).
-- Only when the space is full is the layout packed again.
local function pack(s, d)
  s.slots, s.at, s.used, s.image = {}, {}, 0, nil
  for _, k in ipairs(d.keys) do
    local v = d.vals[k]
    local len = #k + #v + 2
    if s.used + len <= NVRAM_SPACE then
      local slot = { key = k, value = v, cap = #v, off = s.used }
      s.slots[#s.slots + 1] = slot
      s.at[k] = slot
      s.used = s.used + len
    elseif not s.full_logged then
      s.full_logged = true
      fakefile.log("nvram: the store holds more than NVRAM_SPACE (64 KiB): " ..
                   k .. " and later keys are not in the mapping")
    end
  end
end

local function layout(ctx)
  local s, d = ctx.store, store.load()
  if s.slots and s.version == d.version then return s end
  s.version = d.version
  if not s.slots then pack(s, d); return s end
  for k, slot in pairs(s.at) do
    if d.vals[k] == nil then slot.dead = true; s.at[k] = nil end
  end
  for _, k in ipairs(d.keys) do
    local v, slot = d.vals[k], s.at[k]
    if slot and #v <= slot.cap then
      slot.value = v
    else
      if slot then slot.dead = true end
      local len = #k + #v + 2
      if s.used + len > NVRAM_SPACE then pack(s, d); return s end
      slot = { key = k, value = v, cap = #v, off = s.used }
      s.slots[#s.slots + 1] = slot
      s.at[k] = slot
      s.used = s.used + len
    end
  end
  s.image = nil
  return s
end

local function image(s)
  if not s.image then
    local out = {}
    -- (a dead slot keeps its last bytes: a pointer a client got before the
    -- change still reads the old value, as with Broadcom's driver until a
    -- commit frees it)
    for i, slot in ipairs(s.slots) do
      out[i] = slot.key .. "=" .. slot.value .. string.rep("\0", slot.cap - #slot.value + 1)
    end
    s.image = table.concat(out)
  end
  return s.image
end

local function u32(ctx, n)
  return string.pack(ctx.byteorder == "big" and ">I4" or "<I4", n)
end

local function getall(ctx)
  local count, out, len = ctx.count or 0, {}, 0
  for _, kv in ipairs(store.getall()) do
    local e = kv[1] .. "=" .. kv[2] .. "\0"
    if len + #e >= count then break end -- as the driver: what fits, then NULs
    out[#out + 1] = e
    len = len + #e
  end
  ctx.reply = table.concat(out) .. string.rep("\0", count - len)
  return count
end

local function text_of_store()
  local out = {}
  for _, kv in ipairs(store.getall()) do out[#out + 1] = kv[1] .. "=" .. kv[2] .. "\n" end
  return table.concat(out)
end

local function read(ctx)
  if ctx.data == nil then -- the shell: the store as text
    return fakefile.reply_read_bytes(ctx, text_of_store())
  end
  if ctx.data:sub(1, 1) == "\0" or ctx.data == "" then return getall(ctx) end
  local name = ctx.data:match("^[^%z]*")
  local slot = layout(ctx).at[name]
  if not slot then
    store.get(name, ctx) -- logs the unknown key (or a key past NVRAM_SPACE)
    return 0
  end
  ctx.reply = u32(ctx, slot.off + #name + 1)
  return 4
end

local function set_or_unset(s)
  local name, value = s:match("^([^=]*)=(.*)$")
  local ok, err
  if name then ok, err = store.set(name, value) else ok, err = store.unset(s) end
  if ok then return 0 end
  return err == "invalid key name" and -EINVAL or -EIO
end

local function write(ctx)
  local data = ctx.data or ""
  if ctx.side == "fuse" and not data:find("\0", 1, true) then
    -- the shell: `echo k=v > /dev/nvram`, one set or unset a line
    for line in data:gmatch("[^\n]+") do
      local r = set_or_unset(line)
      if r < 0 then return r end
    end
    return #data
  end
  local s = data:match("^[^%z]*")
  if s == "" then return -EINVAL end
  local r = set_or_unset(s)
  if r < 0 then return r end
  return ctx.count or #data
end

local function ioctl(ctx)
  if (ctx.cmd or 0) & 0xffffffff ~= NVRAM_MAGIC then return -EINVAL end
  return store.commit() and 0 or -EIO
end

local function mmap(ctx)
  return fakefile.reply_read_bytes(ctx, image(layout(ctx)))
end

return {
  default_state = "init",
  states = {
    init = {
      open = function(ctx) return 0 end,
      read = read,
      write = write,
      ioctl = ioctl,
      mmap = mmap,
      truncate = function(ctx) return 0 end,
      getattr = function(ctx) return { size = NVRAM_SPACE, mode = tonumber("666", 8) } end,
    },
  },
}
