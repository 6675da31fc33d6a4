-- Demo override (used by scripts/rules-tour.sh through SFEMU_RULES_OVERRIDE_DIR):
-- at exit, print the last syscalls of the runtime's context ring.
function do_syscall(num, status)
    c_log(string.format("exit_group(%d): the last syscalls of this thread:", status))
    for _, e in ipairs(c_get_ctx()) do
        c_log(string.format("  %-16s %s ret=%s%s", tostring(e.name),
                            e.path or string.format("a1=0x%x", e.args[1]),
                            tostring(e.ret), e.errno and (" " .. e.errno) or ""))
    end
end
