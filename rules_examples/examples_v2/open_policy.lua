-- Shared by open.lua and openat.lua (glibc's open() is the openat syscall):
-- log every open; with SFEMU_OPEN_BLOCK_WRITE=1, refuse write-mode opens.
local block_write = os.getenv("SFEMU_OPEN_BLOCK_WRITE") == "1"

-- Returns nil to let the open go on, or the error to return.
return function(pathname, flags)
    local path = c_read_string(pathname, 4096)
    local is_write_mode = (flags & 3) ~= 0  -- O_WRONLY or O_RDWR
    c_log(string.format("open(%s, 0x%x)", path, flags))
    if is_write_mode then
        c_log("Write access requested - checking permissions...")
        if block_write then
            c_log("Write access blocked: " .. path)
            return -13                      -- -EACCES
        end
    end
    return nil
end
