-- AI repair (seed section 5; docs/ai-repair.md).  entry.lua loads this
-- module; with SFEMU_AI_ENABLE=1 (or auto_ai=1) it turns the watchdog's
-- triggers into repair attempts:
--   exit           an abnormal exit/exit_group (the watchdog's exit report)
--   deadloop       a repeated syscall sequence (the deadloop report)
--   syscall_error  with SFEMU_AI_REPAIR_ON_ERROR=1, a syscall of
--                  SFEMU_AI_REPAIR_SYSCALLS failing with an errno of
--                  SFEMU_AI_REPAIR_ERRNOS (from finish.lua; retried in
--                  place once a fix is installed)
-- An attempt: confirmation (c_wait_user_continue, unless auto continue),
-- a snapshot, the tool ($SFEMU_AI_CMD SNAPSHOT PATCH_DIR ENV_PATH, or the
-- built-in one), each fix rule checked and installed into
-- syscall_override/, then the validation window; a fix that fails it is
-- rolled back ("rejected"), one that passes is exported to
-- cache/stable_rules/<run_id>/ ("validated").  Every attempt writes
-- cache/ai_runs/<run_id>/verdict.json.  Exit fixes re-exec the program
-- (SFEMU_AI_REEXEC_ON_EXIT_FIX, SFEMU_REEXEC_MAX); the new process goes on
-- with the validation.  The C side is qemu-hooks/runtime/ai/.
local M = {}
local S = c_ai_settings()

M.enabled = S.enabled
M.repair_on_error = S.enabled and S.on_error
M.pending = false -- a fix in its validation window: entry calls M.tick
if not S.enabled then return M end

local SITE_MAX = 1 -- attempts per trigger site and process (re-execs: REEXEC_MAX)

local function log(fmt, ...) c_log("ai: " .. string.format(fmt, ...)) end

-- ---- verdict.json: a small JSON writer (strings, numbers, booleans,
-- arrays, objects with sorted keys) ----
local ARR = {} -- metatable of arrays that may be empty
local function arr(t) return setmetatable(t, ARR) end
local enc
local function enc_str(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    local b = c:byte()
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "\n" then return "\\n" end
    return string.format("\\u%04x", b) -- bytes >= 0x80 as Latin-1
  end) .. '"'
end
enc = function(v, ind)
  local t = type(v)
  ind = ind or ""
  if t == "nil" then return "null"
  elseif t == "boolean" then return tostring(v)
  elseif t == "number" then
    return math.type(v) == "integer" and tostring(v) or string.format("%.3f", v)
  elseif t == "string" then return enc_str(v) end
  local inner, out = ind .. "  ", {}
  if #v > 0 or getmetatable(v) == ARR then
    for _, x in ipairs(v) do out[#out + 1] = inner .. enc(x, inner) end
    return #out == 0 and "[]" or "[\n" .. table.concat(out, ",\n") .. "\n" .. ind .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    out[#out + 1] = inner .. enc_str(k) .. ": " .. enc(v[k], inner)
  end
  return #out == 0 and "{}" or "{\n" .. table.concat(out, ",\n") .. "\n" .. ind .. "}"
end

-- Merged into verdict.json (top-level keys replaced): a re-exec'd process
-- adds its validation to what the first one recorded.
local function record(run)
  local ok, err = c_ai_record(run.dir, enc(run.rec) .. "\n")
  if not ok then log("%s: cannot write verdict.json (%s)", run.dir, tostring(err)) end
end

-- ---- the attempt ----
local watch_sys = {}
for n in (S.syscalls or ""):gmatch("[^,%s]+") do watch_sys[n] = true end
M.watch_sys = watch_sys
M.errno_set = S.errno_set or {}

local attempts = {}
local pending -- the run in its validation window

local function base(p) return p:match("([^/]+)$") end

-- Returns the run with its fixes installed, or nil (recorded why).
local function attempt(kind, detail, report, sc, site)
  if (attempts[site] or 0) >= SITE_MAX then return nil end
  attempts[site] = (attempts[site] or 0) + 1
  if not S.auto_continue then
    local ok, how = c_wait_user_continue(string.format(
      "AI repair for %s (%s): run the tool and apply its fix?", kind, detail))
    if not ok then
      log("%s: not confirmed (%s): the guest goes on without AI", kind, how)
      return nil
    end
  end
  local id, dir = c_ai_begin(kind)
  if not id then
    log("%s: no attempt (%s): the guest goes on without AI", kind,
        dir == -16 and "a repair is already in flight" or tostring(dir))
    return nil
  end
  local run = { id = id, dir = dir, kind = kind, site = site }
  run.rec = { schema = "sfemu-ai-verdict", version = 1, run_id = id,
              trigger = { kind = kind, detail = detail, report = report,
                          site = site },
              reexec_count = S.reexec_count, files = arr({}), observe = arr({}) }
  log("%s (%s): attempt %s", kind, detail, id)
  local snap, err = c_ai_snapshot(dir, id, kind, detail, report, sc)
  if not snap then
    run.rec.verdict, run.rec.why = "error", "snapshot not written: " .. tostring(err)
    record(run); c_ai_end()
    return nil
  end
  run.rec.snapshot = "snapshot.json"
  local status, code, reason, secs = c_ai_run_tool(dir)
  run.rec.tool = { status = status, code = code, reason = reason, seconds = secs }
  if status ~= "ok" then
    run.rec.verdict = "no_fix"
    run.rec.why = string.format("tool %s: %s", status, reason)
    record(run); c_ai_end()
    log("%s: %s; the guest goes on without AI", id, run.rec.why)
    return nil
  end
  for _, p in ipairs(c_ai_fixes(dir, "observe")) do
    run.rec.observe[#run.rec.observe + 1] = "patch/observe/syscall/" .. base(p)
  end
  local n, why1 = 0, nil
  for _, p in ipairs(c_ai_fixes(dir, "fix")) do
    local f = { file = "patch/fix/syscall/" .. base(p) }
    local name, why = c_ai_check_rule(p)
    if not name then
      f.status, f.why = "rejected", why
      why1 = why1 or (base(p) .. ": " .. why)
      log("%s: %s rejected: %s (never loaded)", id, base(p), why)
    else
      local dest, why2 = c_ai_install(dir, p, name)
      if dest then
        f.status, f.installed = "installed", "syscall_override/" .. name .. ".lua"
        n = n + 1
        log("%s: %s installed as %s", id, base(p), f.installed)
      else
        f.status, f.why = "install_failed", why2
        why1 = why1 or why2
      end
    end
    run.rec.files[#run.rec.files + 1] = f
  end
  if n == 0 then
    run.rec.verdict = #run.rec.files > 0 and "rejected" or "no_fix"
    run.rec.why = why1 or "the tool wrote no fix rule (patch/fix/syscall/NAME.lua)"
    record(run); c_ai_end()
    log("%s: %s: %s", id, run.rec.verdict, run.rec.why)
    return nil
  end
  return run
end

-- ---- the validation window ----
local function conclude(run, verdict, why)
  run.rec.validation = run.rec.validation or {}
  run.rec.validation.ms = run.t0 and (c_ai_now_ms() - run.t0) or 0
  run.rec.validation.syscalls = run.n or 0
  if verdict == "rejected" then
    run.rec.rolled_back = c_ai_rollback(run.dir)
  elseif verdict == "validated" then
    local d, n = c_ai_export(run.dir, run.id)
    run.rec.exported = d and ("cache/stable_rules/" .. run.id .. "/syscall") or nil
  end
  run.rec.verdict, run.rec.why = verdict, why
  record(run)
  c_ai_pending(nil)
  c_ai_end()
  if pending == run then pending = nil; M.pending = false end
  log("%s: %s: %s", run.id, verdict, why)
end

local function start_validation(run)
  run.t0, run.n = c_ai_now_ms(), 0
  run.rec.verdict = "pending"
  run.rec.why = string.format("validation window: %d ms and %d syscalls%s",
    S.validate_ms, S.validate_syscalls,
    S.probe_http and ", then the HTTP probe" or "")
  record(run)
  pending = run
  M.pending = true
  c_ai_pending(run.dir)
end

-- entry, while a fix is in its window: progress, a clean or bad end.
function M.tick(num, name, a1)
  local run = pending
  if run.retrying then
    M.after_retry()
    if not pending then return end
  end
  run.n = run.n + 1
  if name == "exit_group" then
    local st = (a1 or 0) & 0xff
    if st == 0 then
      conclude(run, "validated", "the guest ended with status 0 within the validation window")
    else
      conclude(run, "rejected", string.format(
        "the guest exited with status %d during the validation window%s", st,
        run.kind == "exit" and " (the trigger recurred)" or " (worse)"))
    end
    return
  end
  if c_ai_now_ms() - run.t0 < S.validate_ms or run.n < S.validate_syscalls then
    return
  end
  if S.probe_http and S.probe_http ~= "" then
    if not run.probe then
      run.probe = c_async_probe_http(S.probe_http, 1000)
      if run.probe <= 0 then run.probe = nil; S.probe_http = nil end
      return
    end
    local ok, status = c_probe_result(run.probe)
    if ok == nil then return end
    run.rec.validation = { http_probe = { answered = ok, status = status } }
    if not ok then
      run.probe = nil
      conclude(run, "rejected", "the service does not answer HTTP (SFEMU_PROBE_HTTP)")
      return
    end
  end
  conclude(run, "validated", string.format(
    "no recurrence and %d syscalls in %d ms%s", run.n, c_ai_now_ms() - run.t0,
    S.probe_http and ", the service answers HTTP" or ""))
end

-- ---- triggers ----
local function fixed_exit(run)
  if not S.reexec_on_exit_fix then
    run.rec.verdict = "unvalidated"
    run.rec.why = "SFEMU_AI_REEXEC_ON_EXIT_FIX=0: the fix stays in syscall_override/ for the next run"
    record(run); c_ai_end()
    log("%s: %s", run.id, run.rec.why)
    return
  end
  run.rec.verdict = "pending"
  run.rec.why = "re-exec: the validation goes on in the new process"
  run.rec.reexec = S.reexec_count + 1
  record(run)
  local _, why = c_ai_reexec(run.dir, run.id, run.kind) -- returns on refusal
  run.rec.reexec = nil
  run.t0, run.n = c_ai_now_ms(), 0
  conclude(run, "rejected", why)
end

-- A watchdog report taken by entry (r: {kind, path, seq, tid}).
function M.on_report(r, num, name, a1)
  if pending then
    if r.kind == "deadloop" or r.kind == "idle_deadloop" then
      conclude(pending, "rejected", string.format("%s during the validation window%s",
        r.kind, pending.kind == r.kind and " (the trigger recurred)" or " (worse)"))
    end
    if pending then return end -- its exit is judged by M.tick
  end
  if r.kind == "exit" then
    local st = (a1 or 0) & 0xff
    if S.reexec_on_exit_fix and S.reexec_count >= S.reexec_max then
      -- its fix could not be tried: no tool run for nothing
      log("exit (%s(%d)): no attempt: re-exec refused: %d re-execs already (SFEMU_REEXEC_MAX=%d)",
          name, st, S.reexec_count, S.reexec_max)
      return
    end
    local run = attempt("exit", string.format("%s(%d)", name, st), r.path,
                        { num = num, args = { a1 } }, "exit:" .. name)
    if run then fixed_exit(run) end
  elseif r.kind == "deadloop" then
    local run = attempt("deadloop", "a repeated syscall sequence before " .. name,
                        r.path, nil, "deadloop:" .. name)
    if run then start_validation(run) end
  end
end

-- finish, with SFEMU_AI_REPAIR_ON_ERROR=1: ret is an errno of the set.
function M.on_error(num, name, ret, a1, a2, a3, a4, a5, a6)
  if pending then return nil end -- one repair in flight
  local en = M.errno_set[ret]
  local site = name .. ":" .. en
  local run = attempt("syscall_error", string.format("%s failed with %s", name, en), nil,
                      { num = num, args = { a1, a2, a3, a4, a5, a6 }, ret = ret }, site)
  if not run then return nil end
  start_validation(run)
  c_ai_retry() -- once finish returns: the call again, through the new rule
  run.retrying = ret
  return nil
end

-- entry, after a retry: the retried call must not fail the same way.
function M.after_retry()
  local r = c_ai_retry_result()
  local run = pending
  if r == nil or not run or not run.retrying then return end
  run.rec.retry = { ret = r }
  if r == run.retrying then
    conclude(run, "rejected", string.format("the retried call failed again with %s",
      M.errno_set[r] or tostring(r)))
  else
    run.retrying = nil
    log("%s: the retried call returned %d", run.id, r)
  end
end

-- A fix handed over by a re-exec: validate it here.
do
  local dir, id, kind = c_ai_take_claim()
  if dir then
    local run = { id = id, dir = dir, kind = kind, site = "reexec" }
    -- what the first process recorded stays (record merges)
    run.rec = { reexec_count = S.reexec_count }
    start_validation(run)
  end
end

return M
