-- fakefile: fake files, devices and unix sockets for missing resources
-- (seed "fakefile-framework").  Loaded by the sfemu-mount daemon and by the
-- qemu hook runtime with `require(rules_dir .. "plugins/fakefile")`.
--
-- The module never touches files itself: it goes through `fakefile.host`,
-- a table of functions the host environment supplies in the global
-- FAKEFILE_HOST (sfemu-mount fills it with C functions, the qemu runtime with
-- its own).  When no host table exists and the standard `io` library does
-- (plain lua5.4, for tools and tests), a small io-based host is used.
--
-- Paths: "rules" paths are host paths inside the rules tree; "tree" paths are
-- guest paths ("/tmp/x") inside the device tree.
--
-- Handlers receive ctx = { op, path, pid, fd, flags, count, offset, data,
-- cmd, arg, side, record = {...}, store = {...} } and return an integer
-- (>= 0 result, < 0 -errno).  Read/ioctl replies go in ctx.reply;
-- fakefile.note(ctx, text) leaves a line for the caller's run record.

local M = {}

local src = debug.getinfo(1, "S").source
M.plugin_dir = src:match("^@?(.*/)") or "./"
M.rules_dir = M.plugin_dir:gsub("plugins/fakefile/$", "")
M.config_dir = M.plugin_dir .. "config/"
M.data_dir = M.plugin_dir .. "data/"
M.default_dir = M.plugin_dir .. "default/"

M.ENOENT, M.EBADF, M.EINVAL, M.ENOTTY, M.ECONNREFUSED, M.ENOSYS = 2, 9, 22, 25, 111, 38
M.EAGAIN = 11 -- a socket's read handler: nothing to say now

-- ---------------------------------------------------------------- host table
local function io_host(root)
  local h = {}
  local function dir_of(p) return p:match("^(.*)/[^/]*$") end
  function h.rules_read(p)
    local f, err = io.open(p, "rb"); if not f then return nil, err end
    local d = f:read("a"); f:close(); return d
  end
  function h.rules_write(p, d)
    h.rules_mkdir_p(dir_of(p) or ".")
    local f, err = io.open(p, "wb"); if not f then return nil, err end
    f:write(d); f:close(); return true
  end
  function h.rules_exists(p)
    local f = io.open(p, "rb"); if f then f:close(); return true end
    return false
  end
  function h.rules_mkdir_p(p)
    -- no os.execute: create each level by probing with io (best effort)
    local acc = p:sub(1, 1) == "/" and "/" or ""
    for part in p:gmatch("[^/]+") do
      acc = acc .. part .. "/"
      local ok = io.open(acc .. ".", "rb")
      if ok then ok:close() elseif os.execute then os.execute("mkdir -p '" .. acc .. "'") end
    end
    return true
  end
  local function tp(p) return (root or "") .. p end
  function h.tree_read(p) return h.rules_read(tp(p)) end
  function h.tree_write(p, d) return h.rules_write(tp(p), d) end
  function h.tree_exists(p) return h.rules_exists(tp(p)) end
  function h.log(msg) io.stderr:write("fakefile: ", msg, "\n") end
  return h
end

M.host = rawget(_G, "FAKEFILE_HOST") or (rawget(_G, "io") and io_host(rawget(_G, "FAKEFILE_TREE_ROOT"))) or {}

local function log(msg) if M.host.log then M.host.log(msg) end end
M.log = log

-- ---------------------------------------------------------------- naming
-- 32-bit FNV-1a as 8 hex digits: the "hash suffix" of the seed's naming rule.
function M.hash(s)
  local h = 0x811c9dc5
  for i = 1, #s do
    h = h ~ s:byte(i)
    h = (h * 0x01000193) & 0xffffffff
  end
  return string.format("%08x", h)
end

function M.basename(path) return path:match("([^/]+)/*$") or "root" end
function M.record_path(path) return path .. ".fakefile" end

local HEADER = "-- fakefile-path: "

-- The key names the config and content files: the basename, or
-- "<basename>-<hash>" when a generated config for another path owns the name.
function M.key_for(path)
  local base = M.basename(path)
  local cfg = M.config_dir .. base .. ".fakeconfig.lua"
  if M.host.rules_exists(cfg) then
    local text = M.host.rules_read(cfg) or ""
    local owner = text:match("^" .. HEADER:gsub("%-", "%%-") .. "([^\n]*)")
    if owner and owner ~= path then return base .. "-" .. M.hash(path) end
  end
  return base
end

function M.kind_for(path)
  if path:match("^/dev/") then return "dev" end
  if path:match("%.sock$") or path:match("%.socket$") or path:match("^/var/run/.*%.ctl$") then
    return "socket"
  end
  return "text"
end

-- ---------------------------------------------------------------- records
-- "<path>.fakefile" is plain text, one "key=value" a line.
M.RECORD_KEYS = { "type", "state", "path", "fakeconfig", "fakecontent", "last_pid", "last_fd" }

function M.parse_record(text)
  local r = {}
  for line in (text or ""):gmatch("[^\n]+") do
    local k, v = line:match("^%s*([%w_]+)%s*=%s*(.-)%s*$")
    if k then r[k] = v end
  end
  return r
end

function M.format_record(r)
  local out = { "# sfemu fakefile record: <path> is served by the fakeconfig state machine" }
  for _, k in ipairs(M.RECORD_KEYS) do
    if r[k] ~= nil then out[#out + 1] = k .. "=" .. tostring(r[k]) end
  end
  return table.concat(out, "\n") .. "\n"
end

-- fakefile.init(path, kind [, opts]): create the three pieces for path.
--   <path>.fakefile                                   (device tree)
--   plugins/fakefile/data/<key>.fakecontent            (opts.content or empty)
--   plugins/fakefile/config/<key>.fakeconfig.lua       (delegates to default/<kind>)
-- Existing content/config files are kept.  Returns the record table.
function M.init(path, kind, opts)
  opts = opts or {}
  kind = kind or M.kind_for(path)
  if kind ~= "text" and kind ~= "dev" and kind ~= "socket" then
    return nil, "unknown kind " .. tostring(kind)
  end
  local h = M.host
  local key = M.key_for(path)
  local cfg_rel = "plugins/fakefile/config/" .. key .. ".fakeconfig.lua"
  local dat_rel = "plugins/fakefile/data/" .. key .. ".fakecontent"
  h.rules_mkdir_p(M.config_dir)
  h.rules_mkdir_p(M.data_dir)
  if not h.rules_exists(M.rules_dir .. dat_rel) then
    local ok, err = h.rules_write(M.rules_dir .. dat_rel, opts.content or "")
    if not ok then return nil, err end
  end
  if not h.rules_exists(M.rules_dir .. cfg_rel) then
    local body = HEADER .. path .. "\n" ..
      "-- generated by fakefile.init (kind " .. kind .. "); edit to customise.\n" ..
      "local script_dir = debug.getinfo(1, \"S\").source:match(\"@?(.*/)\") or \"\"\n" ..
      "local rules_dir = script_dir:gsub(\"plugins/fakefile/config/?$\", \"\")\n" ..
      "return require(rules_dir .. \"plugins/fakefile/default/" .. kind .. ".fakeconfig\")\n"
    local ok, err = h.rules_write(M.rules_dir .. cfg_rel, body)
    if not ok then return nil, err end
  end
  local rec = { type = kind, state = opts.state or "init", path = path,
                fakeconfig = cfg_rel, fakecontent = dat_rel,
                last_pid = opts.pid or -1, last_fd = opts.fd or -1 }
  local ok, err = h.tree_write(M.record_path(path), M.format_record(rec))
  if not ok then return nil, err end
  log("init " .. path .. " kind=" .. kind .. " key=" .. key)
  return rec
end

-- ---------------------------------------------------------------- content
local function rules_abs(p)
  if p:sub(1, 1) == "/" then return p end
  return M.rules_dir .. p
end

function M.read_fakecontent(path)
  return M.host.rules_read(rules_abs(path))
end

-- Lines first .. last-1 (0-based, half open), each with its newline.
function M.read_fakecontent_lines(path, first, last)
  local text = M.read_fakecontent(path)
  if not text then return nil end
  first = first or 0
  local out, i = {}, 0
  for line in text:gmatch("[^\n]*\n?") do
    if line == "" then break end
    if i >= first and (last == nil or i < last) then out[#out + 1] = line end
    i = i + 1
  end
  return table.concat(out)
end

function M.write_fakecontent(path, data)
  return M.host.rules_write(rules_abs(path), data)
end

-- ---------------------------------------------------------------- replies
-- Serve `data` as the whole file: the slice at ctx.offset, at most ctx.count.
function M.reply_read_bytes(ctx, data)
  data = data or ""
  local off = ctx.offset or 0
  local n = ctx.count or #data
  local slice = data:sub(off + 1, off + n)
  ctx.reply = slice
  return #slice
end

-- Bytes copied back to the ioctl argument (restricted ioctl, _IOC_READ).
function M.reply_ioctl_bytes(ctx, data, ret)
  ctx.reply = data or ""
  return ret or 0
end

-- A line for the run record of the guest process that made the call
-- (docs/fakefile.md "Notes"): it travels back with the reply; qemu logs it
-- once and -sfanalysis lists it under "notes" with a count.  From the shell
-- (FUSE) it goes to the daemon's log.  At most 16 notes per call.
M.NOTES_PER_CALL = 16
function M.note(ctx, text)
  local notes = rawget(ctx, "notes")
  if type(notes) ~= "table" then notes = {}; ctx.notes = notes end
  if #notes < M.NOTES_PER_CALL then notes[#notes + 1] = tostring(text) end
end

function M.set_state(ctx, state)
  ctx.record.state = state
  return state
end

-- ---------------------------------------------------------------- defaults
function M.default_open(ctx) return 0 end
function M.default_read_eof(ctx) ctx.reply = ""; return 0 end
function M.default_read_content(ctx)
  return M.reply_read_bytes(ctx, M.read_fakecontent(ctx.record.content_path) or "")
end
function M.default_write_discard(ctx) return ctx.count or #(ctx.data or "") end
function M.default_write_content(ctx)
  local old = M.read_fakecontent(ctx.record.content_path) or ""
  local off = ctx.offset or #old
  if off > #old then old = old .. string.rep("\0", off - #old) end
  local new = old:sub(1, off) .. ctx.data .. old:sub(off + #ctx.data + 1)
  M.write_fakecontent(ctx.record.content_path, new)
  return #ctx.data
end
function M.default_ioctl_ok(ctx) return 0 end
function M.default_close(ctx) return 0 end
-- connect: the fd is taken over by the fakefile (reads/writes come here).
function M.default_connect_takeover(ctx) ctx.action = "takeover"; return 0 end
-- connect: create a real listening server (abstract unix socket owned by the
-- host) and let the client connect to it for real.
function M.default_connect_socket_server(ctx)
  if not M.host.socket_server then return -M.ENOSYS end
  local name, err = M.host.socket_server(ctx.path)
  if not name then log("socket_server " .. ctx.path .. ": " .. tostring(err)); return -M.ECONNREFUSED end
  ctx.action = "connect"
  ctx.reply = name
  return 0
end

return M
