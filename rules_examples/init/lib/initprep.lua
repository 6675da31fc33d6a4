-- Shared by the rules of `sfemu-mount --init` (docs/mount.md, "Boot-time
-- preparation: --init"): the firmware's shell replays its init script under
-- the patched qemu; these rules skip the hardware steps and log one
-- "init: ..." line per action and skip, which sfemu-mount reads back from
-- the qemu log into its report.
local M = {}

local function set(list)
  local t = {}
  for _, n in ipairs(list) do t[n] = true end
  return t
end

-- The lists of skip.conf (the interpreter in mount/init_replay.c reads the
-- same file): M.hardware, M.services, M.fs_tools.
M.hardware, M.services, M.fs_tools = {}, {}, {}
do
  local into = { hardware = M.hardware, service = M.services, fs_tool = M.fs_tools }
  local text = c_rules_file("skip.conf")
  if not text then
    c_log("init: cannot read skip.conf of the init rules tree: nothing is skipped by name")
  end
  for line in (text or ""):gmatch("[^\n]+") do
    local kind, names = line:match("^(%w[%w_]*):%s*(.*)$")
    if kind and into[kind] then
      for n in names:gmatch("%S+") do into[kind][n] = true end
    end
  end
end

function M.say(msg)
  c_log("init: " .. msg)
end

function M.skip(what, why)
  c_log("init: skipped " .. what .. " (" .. why .. ")")
end

-- The strings of a guest argv array.
function M.argv(addr)
  local t, step = {}, sfemu.abi_bits // 8
  for i = 0, 255 do
    local p, rc
    if step == 8 then
      p, rc = c_read_guest_u64(addr + i * step)
    else
      p, rc = c_read_guest_u32(addr + i * step)
    end
    if rc ~= 0 or not p or p == 0 then break end
    t[#t + 1] = (c_read_string(p, 4096))
  end
  return t
end

-- Why the program at path (with argv args) is not run, or nil.
function M.why_skip(path, args)
  local dir, base = path:match("^(.-)/?([^/]*)$")
  if base == "busybox" and args[2] then -- busybox APPLET ...
    dir, base = "", args[2]:match("([^/]*)$")
  end
  if M.hardware[base] then return "hardware" end
  if M.services[base] then return "service" end
  if (dir == "/sbin" or dir == "/usr/sbin") and not M.fs_tools[base] then
    return "service"
  end
  return nil
end

-- A syscall that would change the host: logged, "successful" (0).
function M.skip_call(name)
  M.skip(name .. "(2)", "hardware")
  return 0
end

-- This process ends with status 0 now (a skipped command "succeeds").
function M.exit_ok()
  c_do_syscall(c_syscall_num("exit_group"), 0)
end

-- mkdir/mkdirat (args: the syscall's own): the real call, logged; on a
-- dangling symlink (ENOENT, EEXIST) of an absolute path, its target made.
function M.mkdir(num, path, mode, ...)
  local r = c_do_syscall(num, ...)
  local p = M.str(path)
  if (r == -2 or r == -17) and p:sub(1, 1) == "/" then
    local name = p:gsub("/+$", "")
    if name ~= "" and c_readlink(name) and not c_realpath(name) then
      r = c_mkdir_p(name, mode & 0xfff)
      if r == 0 then
        M.say("+ mkdir " .. p .. " (the target of a dangling link)")
        return 0
      end
    end
  end
  if r >= 0 then
    M.say("+ mkdir " .. p)
  end
  return r
end

-- O_CREAT of the guest's ABI.
M.O_CREAT = (sfemu.arch:find("^mips") and 0x100) or 0x40

function M.str(addr)
  return (c_read_string(addr, 4096))
end

return M
