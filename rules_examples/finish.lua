-- Runs after every guest syscall that returns.  The context ring is
-- completed by the runtime itself; returning a number here would replace the
-- syscall's result.
function finish(num, name, ret, intercepted)
end
