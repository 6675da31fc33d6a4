# c_get_ctx from entry.lua/finish.lua (entry.lua also turns the watchdog on)
# and c_wait_user_continue without a terminal or with auto continue.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SFEMU_SRC/tests/qemu/watchdog_lib.sh"
for arch in $WD_ARCHES; do
  R=$(rules_dir api-$arch)
  cat > "$R/entry.lua" <<'LUA'
function entry(num, name) end
LUA
  cat > "$R/finish.lua" <<'LUA'
local shown
function finish(num, name, ret)
  if name == "exit_group" or shown then return end
  if name == "open" or name == "openat" then
    shown = true
    local ctx = c_get_ctx()
    local e = ctx[#ctx]
    c_log(string.format("ctx n=%d last=%s path=%s done=%s fd=%s", #ctx, e.name, e.path, tostring(e.done), tostring(e.fd)))
    local p = ctx[#ctx - 1]
    c_log(string.format("prev %s done=%s ret=%s pc=%s sec=%s", p.name, tostring(p.done), tostring(p.ret), tostring(p.pc ~= 0), tostring(p.sec > 0)))
    local ok, how = c_wait_user_continue("test prompt")
    c_log("wait " .. tostring(ok) .. " " .. how)
    c_log("last report " .. tostring(c_watchdog_last_report()))
  end
end
LUA
  setsid timeout 60 "$QDIR/qemu-$arch" -rules "$R" -rules-ctx-keep 4 $(wd $arch) openloop /etc/x 1 < /dev/null > "$TMP/o" 2>&1
  expect_grep "$arch c_get_ctx: current syscall last, not done yet, path decoded" "ctx n=4 last=open(at)? path=/etc/x done=false fd=(nil|-100)" "$TMP/o"
  expect_grep "$arch c_get_ctx: previous entry complete" "prev [a-z_0-9]+ done=true ret=-?[0-9]+ pc=true sec=true" "$TMP/o"
  expect_grep "$arch no terminal: returns at once, not confirmed" "wait false no_tty" "$TMP/o"
  expect_grep "$arch no terminal is logged" "test prompt: no terminal to ask" "$TMP/o"
  expect_grep "$arch no report yet" "last report nil" "$TMP/o"
  SFEMU_AI_AUTO_CONTINUE=1 setsid timeout 60 "$QDIR/qemu-$arch" -rules "$R" $(wd $arch) openloop /etc/x 1 < /dev/null > "$TMP/o" 2>&1
  expect_grep "$arch auto continue" "wait true auto" "$TMP/o"
done
finish
