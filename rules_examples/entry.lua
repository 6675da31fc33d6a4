-- Runs before every guest syscall.  It records the syscall in the per-thread
-- ring (base/ctxring.lua); returning nothing lets the syscall's own rule and
-- the real syscall run.  (It may also return like do_syscall to intercept.)
local ctx = require("base.ctxring")
local record = ctx.record_entry

function entry(num, name, a1, a2, a3)
    record(num, name, a1, a2, a3)
end
