-- The guest side of fakefile (seed "fakefile-framework"): when the guest
-- opens, stats or connects to a missing path, the path becomes a fake
-- resource (fakefile.init through the runtime) and the call is retried.
-- With an sfemu-mount on the guest root the mount then serves it; without
-- one, the engine inside qemu does (c_fake_open and the fd rules).
--
-- SFEMU_FAKEFILE_ON   which calls create resources: "open,stat,access,connect"
--                     (default all four; "" turns fakefile off)
-- SFEMU_FAKEFILE_SKIP colon-separated path prefixes never faked (default:
--                     /proc/ /sys/ /dev/pts/ /etc/ld.so. locale and gconv
--                     data); shared objects (*.so, *.so.N) are never faked
--                     either: the dynamic loader probes many paths.
local M = {}

local ENOENT = 2
local ECONNREFUSED = sfemu.arch:match("^mips") and 146 or 111
local AT_FDCWD = -100
local AF_UNIX = 1

local on = {}
for w in (os.getenv("SFEMU_FAKEFILE_ON") or "open,stat,access,connect"):gmatch("[^,%s]+") do
    on[w] = true
end
local skip = {}
local default_skip = "/proc/:/sys/:/dev/pts/:/etc/ld.so.:/usr/lib/locale/:" ..
                     "/usr/share/locale/:/usr/lib/gconv/:/usr/share/zoneinfo/"
for p in (os.getenv("SFEMU_FAKEFILE_SKIP") or default_skip):gmatch("[^:]+") do
    skip[#skip + 1] = p
end

function M.fakeable(path)
    if path:sub(1, 1) ~= "/" or path:match("%.fakefile$") then return false end
    for _, p in ipairs(skip) do
        if path:sub(1, #p) == p then return false end
    end
    if path:match("%.so$") or path:match("%.so%.[%d.]+$") then return false end
    return true
end

-- "/a/./b/../c" -> "/a/c"
local function normalize(p)
    local out = {}
    for part in p:gmatch("[^/]+") do
        if part == ".." then out[#out] = nil
        elseif part ~= "." then out[#out + 1] = part end
    end
    return "/" .. table.concat(out, "/")
end

-- The absolute guest path of (dirfd, path pointer), or nil.
function M.guest_path(dirfd, pathptr)
    local p, rc = c_read_string(pathptr, 4096)
    if rc ~= 0 or p == "" then return nil end
    if p:sub(1, 1) ~= "/" then
        local base = c_fd_path(dirfd)          -- AT_FDCWD: the cwd
        if not base then return nil end
        p = base .. "/" .. p
    end
    return normalize(p)
end

local said = false
local function create(path, kind)
    local rc = c_fake_init(path, kind)
    if rc < 0 then
        c_log(string.format("fakefile: cannot create %s: %d", path, rc))
        return false
    end
    if not said then
        said = true
        c_log("fakefile: " .. path .. " is now a fake resource" ..
              (c_fake_mounted() and " (see " .. path .. ".fakefile in the mount)" or ""))
    end
    return true
end

-- open/openat: args is the full argument list, retried as it is.
function M.open(num, dirfd, pathptr, flags, args)
    local ret = c_do_syscall(num, table.unpack(args, 1, 8))
    if ret ~= -ENOENT or not on.open then return ret end
    local path = M.guest_path(dirfd, pathptr)
    if not path or not M.fakeable(path) or not create(path) then return ret end
    if c_fake_mounted() then
        return c_do_syscall(num, table.unpack(args, 1, 8))
    end
    return c_fake_open(path, flags)
end

-- stat family and access family: create, then retry through the mount.
-- Without a mount, access() succeeds; stat() keeps its ENOENT (there is no
-- file to describe until the guest opens it).
function M.probe(kind, num, dirfd, pathptr, args)
    local ret = c_do_syscall(num, table.unpack(args, 1, 8))
    if ret ~= -ENOENT or not on[kind] then return ret end
    local path = M.guest_path(dirfd, pathptr)
    if not path or not M.fakeable(path) or not create(path) then return ret end
    if c_fake_mounted() then
        return c_do_syscall(num, table.unpack(args, 1, 8))
    end
    return kind == "access" and 0 or ret
end

-- connect: an AF_UNIX socket path that nobody listens on becomes a fake
-- socket (taken over, or served by the fakeconfig's own server).
function M.connect(num, fd, addr, addrlen, args)
    local ret = c_do_syscall(num, table.unpack(args, 1, 8))
    if (ret ~= -ENOENT and ret ~= -ECONNREFUSED) or not on.connect then return ret end
    local fam, rc = c_read_bytes(addr, 2)
    if rc ~= 0 then return ret end
    local family = sfemu.big_endian and (fam:byte(1) * 256 + fam:byte(2))
                                     or (fam:byte(2) * 256 + fam:byte(1))
    if family ~= AF_UNIX then return ret end
    local path = c_read_string(addr + 2, math.min(addrlen - 2, 108))
    if path == "" or not M.fakeable(path) or not create(path, "socket") then
        return ret                              -- abstract or skipped
    end
    return c_fake_connect(fd, path)
end

return M
