-- Process life (docs/firmware-pack.md, "Process life"): which reboots,
-- kills and watchdog pokes of a firmware program must not reach the host.
-- Shared by the default tree (rules_examples/syscall/{kill,tkill,tgkill,
-- reboot}.lua, through base/proclife.lua) and the init replay's tree
-- (rules_examples/init/syscall/): it lives here, inside the init tree,
-- because a rules tree can only require files inside itself and the init
-- tree is a subtree of the default one.
--
-- The verdicts return nil (let the call run) or a short description of the
-- call, which the caller neutralises (returns 0, sends nothing) and logs.
-- Two scopes:
--   "group"  only the caller's own process group (the init replay: a script
--            signals its own jobs, nothing else)
--   "tree"   a service under the default tree: its own process group, any
--            guest process of this emulator (its children, a double-forked
--            daemon's workers, the pid of a pid file), and its parent; never
--            pid 1, never every process (-1), never a process group or a
--            process of the host (one that does not run this qemu).
local M = {}

local SIG = { [1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [6] = "SIGABRT",
              [9] = "SIGKILL", [15] = "SIGTERM" }
local mips = sfemu.arch:match("^mips") ~= nil
if mips then
  SIG[16], SIG[17], SIG[23], SIG[24] = "SIGUSR1", "SIGUSR2", "SIGSTOP", "SIGTSTP"
else
  SIG[10], SIG[12], SIG[19], SIG[20] = "SIGUSR1", "SIGUSR2", "SIGSTOP", "SIGTSTP"
end

function M.signame(sig)
  return SIG[sig] or tostring(sig)
end

local function sys(name, ...) return c_do_syscall(c_syscall_num(name), ...) end
local function self_pid() return sys("getpid") end
local function own_pgid() return sys("getpgid", 0) end

-- A guest process of this same emulator (or the caller's parent).
local function guest_or_parent(pid)
  if pid == self_pid() or pid == sys("getppid") then return true end
  local info = c_proc_info and c_proc_info(pid)
  if not info then return true end        -- gone: the real call says ESRCH
  return info.emulated
end

-- kill(pid, sig): nil, or (kind, description) of a call to neutralise.
function M.kill_verdict(pid, sig, scope)
  local what = string.format("kill(%d, %s)", pid, M.signame(sig))
  if sig == 0 or pid == 0 then return nil end           -- a probe; own group
  if pid == -1 then return "kill(-1)", what end
  if pid == 1 and self_pid() ~= 1 then return "kill(1)", what end
  if scope == "group" then
    local target = pid > 0 and sys("getpgid", pid) or -pid
    if target == own_pgid() then return nil end
    return pid > 0 and "kill(pid)" or "kill(-pgid)", what
  end
  if pid > 0 then
    if guest_or_parent(pid) or sys("getpgid", pid) == own_pgid() then
      return nil
    end
    return "kill(pid)", what .. " (a host process)"
  end
  local pgid = -pid
  if pgid == own_pgid() then return nil end
  local members = c_proc_group and c_proc_group(pgid) or {}
  for _, p in ipairs(members) do
    local info = c_proc_info(p)
    if info and not info.emulated then
      return "kill(-pgid)", what .. " (a process group with host processes)"
    end
  end
  return nil
end

-- tkill(tid, sig) and tgkill(tgid, tid, sig): the caller's own threads and
-- (scope "tree") other guest processes' threads only.
function M.tkill_verdict(tid, sig, scope)
  local what = string.format("tkill(%d, %s)", tid, M.signame(sig))
  if tid == c_gettid() then return nil end
  if tid == 1 then return "tkill(1)", what end
  if scope == "tree" and guest_or_parent(tid) then return nil end
  return "tkill(other)", what
end

function M.tgkill_verdict(tgid, tid, sig, scope)
  local what = string.format("tgkill(%d, %d, %s)", tgid, tid, M.signame(sig))
  if tgid == self_pid() then return nil end
  if tgid == 1 then return "tgkill(1)", what end
  if scope == "tree" and guest_or_parent(tgid) then return nil end
  return "tgkill(other)", what
end

-- reboot(magic1, magic2, cmd, arg): always neutralised; the description.
local REBOOT = { [0x01234567] = "RESTART", [0xCDEF0123] = "HALT",
                 [0x4321FEDC] = "POWER_OFF", [0xA1B2C3D4] = "RESTART2",
                 [0x89ABCDEF] = "CAD_ON", [0x00000000] = "CAD_OFF",
                 [0xD000FCE2] = "SW_SUSPEND", [0x45584543] = "KEXEC" }
function M.reboot_what(cmd)
  cmd = cmd & 0xffffffff
  return string.format("reboot(%s)", REBOOT[cmd] or string.format("0x%x", cmd))
end

-- Logs a neutralised call once per kind (per process: a forked child
-- inherits what its parent logged), naming the caller: as a note of the run
-- record (-sfanalysis; c_analysis_note logs it too) when the runtime has
-- c_analysis_note, else as a log line.
local logged = {}
function M.neutralised(kind, what, prefix)
  if logged[kind] then return 0 end
  logged[kind] = true
  local caller = string.format("pid %d (%s)", self_pid(), sfemu.exec_path or "?")
  local text = string.format("neutralised %s from %s: nothing sent, returns 0 " ..
                             "(further %s calls are not logged)", what, caller, kind)
  if c_analysis_note then
    c_analysis_note("proclife", text)      -- logs "note: proclife: ..." once
  else
    c_log((prefix or "proclife: ") .. text)
  end
  return 0
end

-- The watchdog devices: /dev/watchdog, /dev/watchdogN, /dev/misc/watchdog.
function M.is_watchdog(path)
  return path:match("^/dev/watchdog%d*$") ~= nil or path == "/dev/misc/watchdog"
end

-- For plugins/fakefile/guest.lua's always_fake: a watchdog is a fake device
-- even when the root has the node (opening it would arm the host's
-- watchdog when qemu runs as root).  Its writes and WDIOC_* ioctls are
-- answered by plugins/fakefile/watchdog.lua, which logs them.
function M.watchdog_fake(path)
  if M.is_watchdog(path) then
    return "a watchdog device: writes and WDIOC_* ioctls go nowhere"
  end
  return nil
end

return M
