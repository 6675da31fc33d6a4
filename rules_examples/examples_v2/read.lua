-- V2 pattern 4, statistics: count successful reads and bytes, report every
-- SFEMU_READ_STATS_EVERY calls (default 100).
local stats = {count = 0, bytes = 0}
local every = tonumber(os.getenv("SFEMU_READ_STATS_EVERY") or "") or 100

function do_syscall(num, fd, buf, count, ...)
    local ret = c_do_syscall(num, fd, buf, count, ...)
    if ret > 0 then
        stats.count = stats.count + 1
        stats.bytes = stats.bytes + ret
        if stats.count % every == 0 then
            c_log(string.format("Read stats: %d calls, %d bytes",
                                stats.count, stats.bytes))
        end
    end
    return ret
end
