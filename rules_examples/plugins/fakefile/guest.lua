-- The guest side of fakefile (seed "fakefile-framework"): when the guest
-- opens a missing device or connects to a missing unix socket, the path
-- becomes a fake resource (fakefile.init through the runtime) and the call
-- is retried.  With an sfemu-mount on the guest root the mount then serves
-- it; without one, the engine inside qemu does (c_fake_open and the fd
-- rules).  docs/fakefile.md, "Which paths become fake resources".
--
-- The default is conservative: faking every missing path changes how
-- programs behave (a probe that failed now succeeds, the loader reads an
-- empty search-path file, a pid file throws its writes away).  So by
-- default only these become fakes:
--   dev      an open of a missing /dev/... path
--   connect  a connect to a missing (or refusing) unix socket path
--   listed   an open, stat or access of a path matched by a pattern of
--            plugins/fakefile/paths.conf, or with a fakeconfig of its own
--            (plugins/fakefile/config/<name>.fakeconfig.lua), or that
--            already has a record (<path>.fakefile)
-- and a path the service loops on (the watchdog reports a dead loop of
-- this thread with the path's failing open in it) is turned into a fake.
--
-- SFEMU_FAKEFILE_ON   which of these create resources, comma-separated:
--                     default "dev,connect,listed"; "open", "stat" and
--                     "access" fake any missing path on that call (the old
--                     aggressive behaviour: "all" = every word); "" = off
-- SFEMU_FAKEFILE_SKIP colon-separated path prefixes never faked (default
--                     below).  Never faked either, whatever the setting:
--                     creates (O_CREAT: the true root makes missing
--                     parents instead), directory-looking paths, the
--                     loader's and the libc's own files, and any path the
--                     dynamic loader itself asks about.
local M = {}

local ENOENT = 2
local mips = sfemu.arch:match("^mips") ~= nil
local ECONNREFUSED = mips and 146 or 111
local AF_UNIX = 1
local O_CREAT = mips and 0x100 or 0x40
local O_DIRECTORY = (sfemu.arch:match("^arm") or sfemu.arch == "aarch64" or
                     sfemu.arch:match("^ppc")) and 0x4000 or 0x10000

local on = {}
local spec = os.getenv("SFEMU_FAKEFILE_ON") or "dev,connect,listed"
for w in spec:gmatch("[^,%s]+") do
    if w == "all" then
        for _, k in ipairs({"dev", "connect", "listed", "open", "stat", "access"}) do
            on[k] = true
        end
    else
        on[w] = true
    end
end
if on.open then on.dev = true end

local skip = {}
local default_skip = "/proc/:/sys/:/dev/pts/:/dev/shm/:/dev/mqueue/:" ..
                     "/usr/lib/locale/:/usr/share/locale/:/usr/lib/gconv/:" ..
                     "/usr/share/zoneinfo/:/usr/share/i18n/"
for p in (os.getenv("SFEMU_FAKEFILE_SKIP") or default_skip):gmatch("[^:]+") do
    skip[#skip + 1] = p
end

-- The loader's and the libc's own files: an empty one breaks library
-- loading or name lookups that fail cleanly when it is missing.
local system_files = {}
for _, p in ipairs({"/etc/localtime", "/etc/TZ", "/etc/nsswitch.conf",
                    "/etc/host.conf", "/etc/gai.conf", "/etc/resolv.conf",
                    "/etc/hosts", "/etc/services", "/etc/protocols",
                    "/etc/networks", "/etc/passwd", "/etc/group",
                    "/etc/shadow", "/etc/suid-debug", "/etc/mtab",
                    "/etc/ld.so.preload", "/etc/ld.so.cache",
                    "/etc/ld.so.conf",
                    -- glibc's nscd client: it falls back to the files
                    "/var/run/nscd/socket", "/run/nscd/socket",
                    "/var/run/.nscd_socket"}) do
    system_files[p] = true
end
local system_patterns = {
    "^/etc/ld%.so%.",            -- glibc/uClibc loader cache and config
    "^/etc/ld%-musl%-[^/]*%.path$", -- musl's library search path
    "/glibc%-hwcaps/",           -- glibc's per-CPU library directories
    "/tls/", "/tls$",            -- the loader's old per-CPU directories
    "%.so$", "%.so%.[%d.]+$",    -- shared objects (probed along a path)
    "/ld%-[^/]*$", "/ld%.so[^/]*$",
}

function M.system_path(path)
    if system_files[path] then return true end
    for _, p in ipairs(system_patterns) do
        if path:match(p) then return true end
    end
    return false
end

-- ---------------------------------------------------------------- paths.conf
-- One glob per line: "*" within a name, "**" across names, "?" one
-- character; a pattern ending in "/" matches everything below; "!" first
-- means never fake.  "#" starts a comment.
local listed_pats, never_pats = {}, {}

local function glob_to_pattern(g)
    local out = {"^"}
    local i = 1
    while i <= #g do
        local c = g:sub(i, i)
        if c == "*" and g:sub(i + 1, i + 1) == "*" then
            out[#out + 1] = ".*"
            i = i + 1
        elseif c == "*" then
            out[#out + 1] = "[^/]*"
        elseif c == "?" then
            out[#out + 1] = "[^/]"
        elseif c:match("[%^%$%(%)%%%.%[%]%+%-]") then
            out[#out + 1] = "%" .. c
        else
            out[#out + 1] = c
        end
        i = i + 1
    end
    if g:sub(-1) == "/" then out[#out + 1] = ".*" end
    out[#out + 1] = "$"
    return table.concat(out)
end

M.paths_file = "plugins/fakefile/paths.conf"
do
    local text = c_rules_file(M.paths_file)
    local n = 0
    for line in (text or ""):gmatch("([^\n]*)\n?") do
        n = n + 1
        line = line:gsub("#.*", ""):match("^%s*(.-)%s*$")
        local neg = line:sub(1, 1) == "!"
        local g = neg and line:sub(2) or line
        if g:sub(1, 1) == "/" then
            local t = neg and never_pats or listed_pats
            t[#t + 1] = glob_to_pattern(g)
        elseif line ~= "" then
            c_log(string.format("fakefile: %s:%d: '%s' is not an absolute " ..
                                "path pattern: ignored", M.paths_file, n, line))
        end
    end
end

local function matches(pats, path)
    for _, p in ipairs(pats) do
        if path:match(p) then return true end
    end
    return false
end

-- Never a fake, whatever SFEMU_FAKEFILE_ON says.
function M.fakeable(path)
    if path:sub(1, 1) ~= "/" or path:match("%.fakefile$") then return false end
    for _, p in ipairs(skip) do
        if path:sub(1, #p) == p then return false end
    end
    return not M.system_path(path) and not matches(never_pats, path)
end

-- The syscall comes from the dynamic loader (glibc's ld-linux*/ld.so.1,
-- uClibc's ld-uClibc*): its library search probes directories and files
-- (glibc's hwcap subdirectories "neon/vfp", "v8l" ..., every directory of
-- LD_LIBRARY_PATH) that must stay missing.  musl's loader is libc.so
-- itself; its only probes are the *.so and ld-musl-*.path names above.
function M.from_loader()
    local pc = c_get_reg("pc")
    if type(pc) ~= "number" then return false end
    local where = c_resolve_addr(pc)
    local mod = where and where:match("^([^!+]+)[!+]")
    return mod ~= nil and (mod:match("^ld%-") or mod:match("^ld%.so")) ~= nil
end

-- Why path is one the user asked for (nil if not): a pattern, a fakeconfig
-- of its own, or a record already there.
local own_config = {}
function M.listed(path)
    if matches(listed_pats, path) then return M.paths_file end
    local base = path:match("[^/]+$")
    if base then
        -- true: any path of that name; a string: the one path the config's
        -- "-- fakefile-path: P" first line names (/dev/nvram's config must
        -- not make a shell's PATH lookup of /bin/nvram a fake)
        local known = own_config[base]
        if known == nil then
            local text = c_rules_file("plugins/fakefile/config/" .. base ..
                                      ".fakeconfig.lua")
            known = text ~= nil and
                    (text:match("^%-%- fakefile%-path: ([^\n]*)") or true)
            own_config[base] = known
        end
        if known == true or known == path then
            return "config/" .. base .. ".fakeconfig.lua"
        end
    end
    if c_realpath(path .. ".fakefile") then return "its record" end
    return nil
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

-- The absolute guest path of (dirfd, path pointer), or nil; and whether
-- the path as given looks like a directory ("dir/", "dir/.").
function M.guest_path(dirfd, pathptr)
    local p, rc = c_read_string(pathptr, 4096)
    if rc ~= 0 or p == "" then return nil end
    local dirish = p:match("/%.?%.?$") ~= nil
    if p:sub(1, 1) ~= "/" then
        local base = c_fd_path(dirfd)          -- AT_FDCWD: the cwd
        if not base then return nil end
        p = base .. "/" .. p
    end
    return normalize(p), dirish
end

-- Created once per Lua state (a thread): fakefile.init of an existing
-- record only logs again.
local made = {}
local function create(path, kind, why)
    if made[path] then return true end
    local rc = c_fake_init(path, kind)
    if rc < 0 then
        c_log(string.format("fakefile: cannot create %s: %d", path, rc))
        return false
    end
    made[path] = true
    c_log("fakefile: " .. path .. " is now a fake resource (" .. why ..
          (c_fake_mounted() and "; see " .. path .. ".fakefile in the mount" or "") ..
          ")")
    return true
end

-- The watchdog reported a dead loop of this thread, and path's failing
-- open is in the thread's recent syscalls: the service loops on it.
local seen_report = 0
local function service_loops_on(path)
    local r = c_watchdog_last_report(seen_report)
    if not r then return nil end
    seen_report = r.seq
    if r.kind ~= "deadloop" or r.tid ~= c_gettid() then return nil end
    local n = 0
    for _, e in ipairs(c_get_ctx()) do
        if e.errno == "ENOENT" and e.path and
           (e.path == path or normalize(e.path) == path) then
            n = n + 1
        end
    end
    return n >= 2 and r.seq or nil
end

-- Hooks of other parts of the rules tree, keyed by name (a module that
-- registers twice replaces its own entry):
--   before_missing[name](path) -> true when it made the missing path (or a
--     directory on its way) for real (base/bootstrap_fs.lua: /var/run,
--     /etc/*.pem at first use); the call is then retried, before any fake
--     is considered.  Runs only after ENOENT (not for O_CREAT: the true
--     root makes a create's missing parents itself).
--   always_fake[name](path) -> why, when path (under /dev/) must be a fake
--     even if the root has it (base/proclife.lua: a watchdog node would
--     reach the host's watchdog).  Costs an 8-byte read of the path per
--     open while set.
M.before_missing, M.always_fake = {}, {}

local function made_missing(path)
    for _, hook in pairs(M.before_missing) do
        if hook(path) then return true end
    end
    return false
end

local function forced(pathptr)
    if next(M.always_fake) == nil then return nil end
    -- the hooks' paths are devices: a short read decides for every other
    local p, rc = c_read_string(pathptr, 8)
    if rc ~= 0 or p:sub(1, 5) ~= "/dev/" then return nil end
    p, rc = c_read_string(pathptr, 256)
    if rc ~= 0 then return nil end
    for _, pred in pairs(M.always_fake) do
        local why = pred(p)
        if why then return normalize(p), why end
    end
    return nil
end

-- Why an open of the missing path becomes a fake, or nil.
local function open_reason(path)
    if on.open then return "a missing path was opened" end
    if on.dev and path:match("^/dev/[^/]") then return "a missing device" end
    if on.listed then
        local why = M.listed(path)
        if why then return "listed by " .. why end
    end
    return nil
end

-- open/openat: args is the full argument list, retried as it is.
function M.open(num, dirfd, pathptr, flags, args)
    local fpath, fwhy = forced(pathptr)
    if fpath then
        if not create(fpath, "dev", fwhy) then return -ENOENT end
        if c_fake_mounted() then
            return c_do_syscall(num, table.unpack(args, 1, 8))
        end
        return c_fake_open(fpath, flags)
    end
    local ret = c_do_syscall(num, table.unpack(args, 1, 8))
    if ret ~= -ENOENT or flags & O_CREAT ~= 0 then
        return ret
    end
    if flags & O_DIRECTORY ~= 0 and next(M.before_missing) == nil then
        return ret
    end
    local path, dirish = M.guest_path(dirfd, pathptr)
    if not path then return ret end
    if made_missing(path) then
        return c_do_syscall(num, table.unpack(args, 1, 8))
    end
    if dirish or flags & O_DIRECTORY ~= 0 or not M.fakeable(path) then
        return ret
    end
    local why = open_reason(path)
    if not why then
        local seq = service_loops_on(path)
        if not seq then return ret end
        why = "the service loops on its failing open: watchdog report " .. seq
    end
    if M.from_loader() or not create(path, nil, why) then return ret end
    if c_fake_mounted() then
        return c_do_syscall(num, table.unpack(args, 1, 8))
    end
    return c_fake_open(path, flags)
end

-- stat family and access family: create, then retry through the mount.
-- Without a mount, access() succeeds; stat() keeps its ENOENT (there is no
-- file to describe until the guest opens it).  By default only listed
-- paths: a probe that starts to succeed changes the program's branches.
function M.probe(kind, num, dirfd, pathptr, args)
    local ret = c_do_syscall(num, table.unpack(args, 1, 8))
    if ret ~= -ENOENT then return ret end
    if next(M.before_missing) ~= nil then
        local path, dirish = M.guest_path(dirfd, pathptr)
        if path and made_missing(path) then
            return c_do_syscall(num, table.unpack(args, 1, 8))
        end
    end
    if not (on[kind] or on.listed) then return ret end
    local path, dirish = M.guest_path(dirfd, pathptr)
    if not path or dirish or not M.fakeable(path) then return ret end
    local why = on[kind] and "a missing path was probed" or nil
    if not why then
        local l = M.listed(path)
        why = l and ("listed by " .. l)
    end
    if not why or M.from_loader() or not create(path, nil, why) then
        return ret
    end
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
    if path == "" or not M.fakeable(path) or
       not create(path, "socket", "a unix socket nobody listens on") then
        return ret                              -- abstract or skipped
    end
    return c_fake_connect(fd, path)
end

return M
