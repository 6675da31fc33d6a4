-- The per-thread ring of recent syscalls that entry.lua and finish.lua keep
-- (the watchdog's "ctx"): number, name, args, return, intercepted, time.
-- Size: -rules-ctx-keep (sfemu.ctx_keep).
local M = {}
local keep = sfemu.ctx_keep > 0 and sfemu.ctx_keep or 1
local ring, head, count = {}, 0, 0

for i = 1, keep do
    ring[i] = {num = 0, name = false, a1 = 0, a2 = 0, a3 = 0, ret = 0,
               intercepted = false, sec = 0, nsec = 0}
end

function M.record_entry(num, name, a1, a2, a3)
    head = head % keep + 1
    local e = ring[head]
    e.num, e.name, e.a1, e.a2, e.a3 = num, name, a1, a2, a3
    e.ret, e.intercepted = nil, false
    e.sec, e.nsec = c_get_timestamp()
    if count < keep then count = count + 1 end
end

function M.record_finish(ret, intercepted)
    local e = ring[head]
    e.ret, e.intercepted = ret, intercepted
end

-- Oldest first, as plain tables (for reports).
function M.snapshot()
    local out = {}
    for i = count - 1, 0, -1 do
        local e = ring[(head - 1 - i) % keep + 1]
        out[#out + 1] = {num = e.num, name = e.name, args = {e.a1, e.a2, e.a3},
                         ret = e.ret, intercepted = e.intercepted,
                         sec = e.sec, nsec = e.nsec}
    end
    return out
end

return M
