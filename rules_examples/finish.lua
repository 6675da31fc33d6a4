-- Runs after every guest syscall that returns.  The context ring is
-- completed by the runtime itself; returning a number here would replace the
-- syscall's result.
--
-- With AI repair's SFEMU_AI_REPAIR_ON_ERROR=1 (base/ai.lua), a syscall of
-- SFEMU_AI_REPAIR_SYSCALLS failing with an errno of SFEMU_AI_REPAIR_ERRNOS
-- starts an attempt; a fix installed, the call runs again through it
-- (c_ai_retry) and the guest gets that result.  Otherwise finish is empty,
-- and an empty finish is never called.
local ai = c_rules_file("base/ai.lua") and require("base.ai") or { repair_on_error = false }

if ai.repair_on_error then
  local sys, errs = ai.watch_sys, ai.errno_set
  function finish(num, name, ret, intercepted, a1, a2, a3, a4, a5, a6)
    if errs[ret] and sys[name] then
      return ai.on_error(num, name, ret, a1, a2, a3, a4, a5, a6)
    end
  end
else
  function finish(num, name, ret, intercepted)
  end
end
