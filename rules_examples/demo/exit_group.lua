-- Demo override (used by scripts/demo.sh through SFEMU_RULES_OVERRIDE_DIR):
-- at exit, print the last syscalls that entry.lua/finish.lua recorded.
local ctx = require("base.ctxring")

function do_syscall(num, status)
    c_log(string.format("exit_group(%d): the last syscalls of this thread:", status))
    for _, e in ipairs(ctx.snapshot()) do
        c_log(string.format("  %-16s a1=0x%x ret=%s%s", tostring(e.name), e.args[1],
                            tostring(e.ret), e.intercepted and " (intercepted)" or ""))
    end
end
