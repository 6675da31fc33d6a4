-- V2 pattern 2: mode "modify" calls the real getpid and changes the result;
-- mode "fake" never calls it.  SFEMU_GETPID_MODE=modify|fake (default modify).
local mode = os.getenv("SFEMU_GETPID_MODE") or "modify"
local fake_pid = tonumber(os.getenv("SFEMU_GETPID_FAKE") or "") or 12345

function do_syscall(num, ...)
    if mode == "fake" then
        return fake_pid
    end
    local real_pid = c_do_syscall(num, ...)
    return real_pid + 10000
end
