-- What services expect to find in the root (seed section 6: "SSL/目录补齐",
-- docs/firmware-pack.md "Certificates and directories"):
--   * the directories of config/bootstrap_fs.conf (/var/run, /var/log ...),
--     made once per thread's rules (entry.lua calls M.dirs());
--   * /etc/*.pem of config/ssl/certs.conf, made when the service opens or
--     stats a missing one (plugins/fakefile/guest.lua's before_missing
--     hook): a fresh key and a self-signed certificate, by c_make_cert
--     (OpenSSL, qemu-hooks/runtime/api/api_cert.c).
-- Only under the true root (-L ROOTFS): without it a guest path is a host
-- path and nothing is made.  Paths not named in the templates cost one
-- table lookup, after an open or stat has already failed with ENOENT.
local guest = require("plugins.fakefile.guest")
local M = {}

M.certs_file = "config/ssl/certs.conf"
M.dirs_file = "config/bootstrap_fs.conf"

local function say(msg) c_log("bootstrap_fs: " .. msg) end

-- config/ssl/certs.conf -> by_path[cert or key path] = template
local by_path = {}
do
  local text = c_rules_file(M.certs_file) or ""
  local cur, n = nil, 0
  for line in text:gmatch("([^\n]*)\n?") do
    n = n + 1
    line = line:gsub("#.*", ""):match("^%s*(.-)%s*$")
    local head = line:match("^%[(/[^%]]+)%]$")
    local k, v = line:match("^([%w_]+)%s*=%s*(.-)$")
    if head then
      cur = { cert = head, key = head, line = n }
      by_path[head] = cur
    elseif k and cur and (k == "key" or k == "subject" or k == "days" or
                          k == "key_type" or k == "san") then
      cur[k] = k == "days" and math.tointeger(tonumber(v)) or v
      if k == "key" then by_path[v] = cur end
    elseif line ~= "" then
      say(string.format("%s:%d: expected [PATH] or key/subject/days/key_type/san = value: ignored",
                        M.certs_file, n))
    end
  end
end

local function exists(p) return c_realpath(p) ~= nil end

-- The before_missing hook: true when path was made.
local tried = {}
function M.make_missing(path)
  local t = by_path[path]
  if not t or not sfemu.true_root then return false end
  if tried[t] ~= nil then return tried[t] end
  tried[t] = false
  if exists(t.cert) or exists(t.key) then
    say(string.format("not making %s: %s exists, and a new key would not match it",
                      path, exists(t.cert) and t.cert or t.key))
    return false
  end
  for _, p in ipairs({ t.cert, t.key }) do
    local dir = p:match("^(.*)/[^/]+$")
    if dir and dir ~= "" then c_mkdir_p(dir) end
  end
  local ok, rc, why = c_make_cert({ cert = t.cert, key = t.key, subject = t.subject,
                                    days = t.days, key_type = t.key_type, san = t.san })
  if not ok then
    say(string.format("cannot make %s (%s:%d): %s (%d)", path, M.certs_file,
                      t.line, why or "?", rc or 0))
    return false
  end
  tried[t] = true
  say(string.format("made %s%s at its first use: a new %s key and a self-signed " ..
                    "certificate for %s, %d days (%s:%d)", t.cert,
                    t.key ~= t.cert and (" and " .. t.key) or "", t.key_type or "rsa:2048",
                    t.subject or "?", t.days or 3650, M.certs_file, t.line))
  return true
end
guest.before_missing.bootstrap_fs = M.make_missing

-- The directories, once per Lua state (a thread; a forked child inherits).
local dirs_done = false
function M.dirs()
  if dirs_done then return end
  dirs_done = true
  if not sfemu.true_root then return end
  local n = 0
  for line in (c_rules_file(M.dirs_file) or ""):gmatch("([^\n]*)\n?") do
    n = n + 1
    line = line:gsub("#.*", "")
    local p, mode = line:match("^%s*(/%S*)%s*(%d*)%s*$")
    if p and not exists(p) then
      local m = mode ~= "" and tonumber(mode, 8) or tonumber("755", 8)
      local rc = c_mkdir_p(p, m)
      if rc == 0 then
        say("made the directory " .. p .. " (" .. M.dirs_file .. ")")
      else
        say(string.format("cannot make %s (%s:%d): %d", p, M.dirs_file, n, rc))
      end
    elseif not p and line:find("%S") then
      say(string.format("%s:%d: expected PATH [MODE]: ignored", M.dirs_file, n))
    end
  end
end

return M
