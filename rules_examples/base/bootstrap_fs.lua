-- What services expect to find in the root (seed section 6: "SSL/目录补齐",
-- docs/firmware-pack.md "Certificates and directories"):
--   * the directories of config/bootstrap_fs.conf (/var/run, /var/log ...),
--     made when the service opens or stats one of them, or a path below
--     one, and gets ENOENT (a create's missing parents are the true root's
--     own job: docs/true-root.md, "Missing parents");
--   * /etc/*.pem of config/ssl/certs.conf, made when the service opens or
--     stats a missing one: a fresh key and a self-signed certificate, by
--     c_make_cert (OpenSSL, qemu-hooks/runtime/api/api_cert.c).
-- Both through plugins/fakefile/guest.lua's before_missing hook, so
-- nothing is made for a program that never asks: a run under the rules
-- leaves the root as stock qemu would.
-- Only under the true root (-L ROOTFS): without it a guest path is a host
-- path and nothing is made.  Paths not named in the templates cost one
-- table lookup and a few string compares, after an open or stat has
-- already failed with ENOENT.
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

-- config/bootstrap_fs.conf -> dirs = { {path=, mode=, line=} }
local dirs = {}
do
  local n = 0
  for line in (c_rules_file(M.dirs_file) or ""):gmatch("([^\n]*)\n?") do
    n = n + 1
    line = line:gsub("#.*", "")
    local p, mode = line:match("^%s*(/%S*)%s*([0-7]*)%s*$")
    if p then
      dirs[#dirs + 1] = { path = p:gsub("/+$", ""), line = n,
                          mode = mode ~= "" and tonumber(mode, 8) or tonumber("755", 8) }
    elseif line:find("%S") then
      say(string.format("%s:%d: expected PATH [OCTAL-MODE]: ignored", M.dirs_file, n))
    end
  end
end

-- A listed directory that path is, or is below, made if missing: true
-- when made now (the failed call is then retried).
local dirs_tried = {}
local make_dir_for
function make_dir_for(path)
  for _, d in ipairs(dirs) do
    if path == d.path or path:sub(1, #d.path + 1) == d.path .. "/" then
      if dirs_tried[d] or exists(d.path) then return false end
      dirs_tried[d] = true
      -- /var -> /tmp/var: a listed top-level directory (/tmp) is made
      -- first, with its own mode, not as a parent of /tmp/var/run (0755)
      for _, e in ipairs(dirs) do
        if e ~= d and not e.path:find("/", 2, true) then make_dir_for(e.path) end
      end
      local rc = c_mkdir_p(d.path, d.mode)
      if rc ~= 0 then
        say(string.format("cannot make %s (%s:%d): %d", d.path, M.dirs_file, d.line, rc))
        return false
      end
      say(string.format("made the directory %s at its first use (%s:%d)",
                        d.path, M.dirs_file, d.line))
      return true
    end
  end
  return false
end

-- The before_missing hook: true when path was made.
local tried = {}
function M.make_missing(path)
  if not sfemu.true_root then return false end
  if make_dir_for(path) then return true end
  local t = by_path[path]
  if not t then return false end
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

return M
