-- The NVRAM key store (docs/firmware-pack.md, "NVRAM"): plain `key=value`
-- lines in the guest file /sfemu/nvram.txt, the one store behind every way
-- firmware reaches NVRAM (/dev/nvram, WLCSM netlink, the `nvram` command).
--
-- The file is the truth: it is read again before each operation (a shell
-- edit is seen by the next get) and written at once on each change, through
-- fakefile.host (the daemon's upper layer on a mount, else the rootfs).
-- Missing, it is seeded from the firmware's own defaults, then from the
-- rules tree's config/nvram.defaults, which wins.
--
--   local store = require("plugins.nvram.store")
--   store.get(name[, ctx]) -> value | nil     (unknown: logged once per key)
--   store.set(name, value) -> true | nil, err  (err: an invalid name)
--   store.unset(name)      -> true | nil, err
--   store.getall()         -> { {name, value}, ... } in file order
--   store.commit()         -> true | nil, err
--   store.load()           -> db { keys = {...}, vals = {...}, version = N }
--   store.parse(text[, how]) -> list of {name, value}, bad line numbers
local fakefile = require("plugins.fakefile")

local M = {}

M.PATH = "/sfemu/nvram.txt"
M.RULES_DEFAULTS = "config/nvram.defaults"
-- The firmware's own defaults, imported in this order (a later file's value
-- wins).  The host table cannot list directories, so the globs of the issue
-- (/etc/default/nvram*, /etc/wlan/*) are these names.
M.FIRMWARE_DEFAULTS = {
  "/etc/nvram.default", "/var/etc/nvram.default", "/etc/nvram.conf",
  "/etc/nvram.deft", "/etc/nvram.update", "/etc/nvram.ini",
  "/etc/config/nvram.ini", "/etc/default/nvram", "/etc/default/nvram.default",
  "/etc/default/nvram.conf", "/etc/default/nvram.ini", "/etc/default/nvram.txt",
  "/etc/default/nvram_default", "/etc/wlan/nvram_params", "/etc/wlan/nvram.default",
  "/etc/wlan/nvram.conf", "/etc/system_nvram_defaults",
}

local HEADER = "# sfemu NVRAM store: one key=value a line (\\n and \\\\ escaped); " ..
               "edit freely, delete to re-seed (docs/firmware-pack.md)\n"

local db = nil        -- { keys = {name...}, vals = {name = value}, text = file text, version = n }
local version = 0
local logged = {}     -- unknown keys already logged

local function log(msg) fakefile.log("nvram: " .. msg) end

-- ------------------------------------------------------------- formats
local function unescape(v)
  return (v:gsub("\\(.)", function(c)
    if c == "n" then return "\n" elseif c == "\\" then return "\\" end
    return "\\" .. c
  end))
end

local function escape(v) return (v:gsub("\\", "\\\\"):gsub("\n", "\\n")) end

-- A name NVRAM can hold: no '=', no NUL, no line break, not empty.
function M.valid_name(name)
  return type(name) == "string" and name ~= "" and not name:find("[=%z\n\r]")
end

-- parse(text, how): how = "store" (unescape values), "ini" (trim values,
-- drop surrounding quotes) or nil (raw values).  A text holding NUL bytes
-- is a Broadcom image: an optional "FLSH" header (20 bytes), then
-- "key=value\0" strings up to an empty one.
function M.parse(text, how)
  local out, bad = {}, {}
  if text:find("\0", 1, true) then
    local body = text
    if body:sub(1, 4) == "FLSH" or body:sub(1, 4) == "HSLF" then body = body:sub(21) end
    for s in body:gmatch("([^%z]*)%z") do
      if s == "" then break end
      local k, v = s:match("^([^=]+)=(.*)$")
      if k then out[#out + 1] = { k, v } end
    end
    return out, bad
  end
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", "")
    local trimmed = line:match("^%s*(.-)%s*$")
    if trimmed == "" or trimmed:find("^[#;]") or trimmed:find("^%[.*%]$") then
      -- blank, comment, [section]
    else
      local k, v = line:match("^%s*([^=]-)%s*=(.*)$")
      if k and M.valid_name(k) then
        if how == "store" then
          v = unescape(v)
        elseif how == "ini" then
          v = v:match("^%s*(.-)%s*$")
          v = v:match('^"(.*)"$') or v
        end
        out[#out + 1] = { k, v }
      else
        bad[#bad + 1] = n
      end
    end
  end
  return out, bad
end

function M.format(d)
  local out = { HEADER }
  for _, k in ipairs(d.keys) do out[#out + 1] = k .. "=" .. escape(d.vals[k]) .. "\n" end
  return table.concat(out)
end

local function new_db() return { keys = {}, vals = {} } end

local function put(d, k, v)
  if d.vals[k] == nil then d.keys[#d.keys + 1] = k end
  d.vals[k] = v
end

local function remove(d, k)
  if d.vals[k] == nil then return end
  d.vals[k] = nil
  for i, name in ipairs(d.keys) do
    if name == k then table.remove(d.keys, i); break end
  end
end

local function merge(d, list)
  for _, kv in ipairs(list) do put(d, kv[1], kv[2]) end
  return #list
end

-- ------------------------------------------------------------- the file
-- A store that cannot be written (a read-only root) is kept in memory, for
-- this process (no mount) or the daemon's life, and said once.
local write_failed = false
local function save(d)
  local text = M.format(d)
  local ok, err = fakefile.host.tree_write(M.PATH, text)
  version = version + 1
  d.version = version
  d.unsaved = not ok
  if not ok then
    if not write_failed then
      write_failed = true
      log("cannot write " .. M.PATH .. " (" .. tostring(err) .. "): the store is kept in memory")
    end
    return true
  end
  d.text = text
  return true
end

local function seed()
  local d, from = new_db(), {}
  local h = fakefile.host
  for _, p in ipairs(M.FIRMWARE_DEFAULTS) do
    local text = h.tree_exists and h.tree_exists(p) and h.tree_read(p)
    if text then
      local n = merge(d, (M.parse(text, p:match("%.ini$") and "ini" or nil)))
      from[#from + 1] = p .. " (" .. n .. ")"
    end
  end
  local rules = fakefile.rules_dir .. M.RULES_DEFAULTS
  local text = h.rules_exists(rules) and h.rules_read(rules)
  if text then
    local list, bad = M.parse(text)
    for _, n in ipairs(bad) do
      log(rules .. ":" .. n .. ": not a key=value line: ignored")
    end
    from[#from + 1] = M.RULES_DEFAULTS .. " (" .. merge(d, list) .. ")"
  end
  log("seeded " .. M.PATH .. " with " .. #d.keys .. " keys from " ..
      (#from > 0 and table.concat(from, ", ") or "nothing"))
  save(d)
  return d
end

-- The store as the file says now; parsed again only when the file changed.
function M.load()
  local text = fakefile.host.tree_read(M.PATH)
  if not text then
    if db and db.unsaved then return db end
    db = seed()
    return db
  end
  if db and db.text == text then return db end
  local list, bad = M.parse(text, "store")
  for _, n in ipairs(bad) do
    log(M.PATH .. ":" .. n .. ": not a key=value line: ignored")
  end
  db = new_db()
  merge(db, list)
  db.text = text
  version = version + 1
  db.version = version
  return db
end

function M.get(name, ctx)
  local d = M.load()
  local v = d.vals[name]
  if v == nil then
    if not logged[name] then
      logged[name] = true
      log("unknown key " .. name .. " (add it to " .. M.PATH .. " or " ..
          M.RULES_DEFAULTS .. ")")
    end
    if ctx and fakefile.note then fakefile.note(ctx, "nvram: unknown key " .. name) end
  end
  return v
end

function M.set(name, value)
  if not M.valid_name(name) then return nil, "invalid key name" end
  local d = M.load()
  if d.vals[name] == value then return true end
  put(d, name, value)
  return save(d)
end

function M.unset(name)
  local d = M.load()
  if d.vals[name] == nil then return true end
  remove(d, name)
  return save(d)
end

function M.getall()
  local d, out = M.load(), {}
  for i, k in ipairs(d.keys) do out[i] = { k, d.vals[k] } end
  return out
end

-- Every change is written at once; commit writes the file again (a store
-- edited into an unusual layout comes back in the canonical one).
function M.commit()
  return save(M.load())
end

return M
