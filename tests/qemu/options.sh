# The SFEmu options parse, reject bad values with a clear error, work as
# QEMU_* environment variables, and reach the runtime (the sfemu table).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
P=$(probe arm)
R=$(rules_dir opts)
cat > "$R/getpid.lua" <<'LUA'
function do_syscall(num)
  local sec, nsec = c_get_timestamp()
  c_log("timestamp ok=" .. tostring(sec > 1600000000 and nsec >= 0 and nsec < 1000000000))
  local s = sfemu.shadowstack
  c_log(string.format("opts arch=%s ctx_keep=%d idle_ms=%d ss=%s/%s/%d/%d an=%s",
        sfemu.arch, sfemu.ctx_keep, sfemu.idle_ms, tostring(s.log), tostring(s.summary),
        s.unwind_limit, s.max_stack, tostring(sfemu.sfanalysis)))
end
LUA
qemu arm -rules "$R" -rules-ctx-keep 256 -rules-idle-ms 1000 \
  -shadowstack log=off,summary=on,unwind_limit=100,max_stack=50 -sfanalysis "$TMP/an" \
  $P getpid > "$TMP/o1" 2>&1
expect_grep "c_get_timestamp returns sec, nsec" "timestamp ok=true" "$TMP/o1"
expect_grep "options reach the runtime" "opts arch=arm ctx_keep=256 idle_ms=1000 ss=false/true/100/50 an=$TMP/an" "$TMP/o1"
QEMU_RULES="$R" QEMU_RULES_CTX_KEEP=7 QEMU_RULES_IDLE_MS=5 QEMU_SHADOWSTACK=log=on \
  QEMU_SFANALYSIS="$TMP/x" qemu arm $P getpid > "$TMP/o2" 2>&1
expect_grep "QEMU_* environment variables" "opts arch=arm ctx_keep=7 idle_ms=5 ss=true/true/100/100 an=$TMP/x" "$TMP/o2"

bad() {  # bad LABEL EXPECTED-MESSAGE ARGS...
  local label=$1 msg=$2; shift 2
  qemu arm "$@" $P hello > "$TMP/bad" 2>&1; local rc=$?
  if [ $rc -ne 0 ] && grep -qF -- "$msg" "$TMP/bad"; then pass "$label"; else fail "$label (rc=$rc)"; cat "$TMP/bad"; fi
}
bad "-rules on a missing dir" "-rules '$TMP/nope': No such file or directory" -rules "$TMP/nope"
bad "-rules on a file" "not a directory" -rules "$P"
bad "-rules-ctx-keep not a number" "-rules-ctx-keep 'abc': expected an integer" -rules-ctx-keep abc
bad "-rules-idle-ms negative" "-rules-idle-ms '-5'" -rules-idle-ms -5
bad "-shadowstack unknown key" "unknown key 'depth'" -shadowstack depth=3
bad "-shadowstack bad on/off" "expected on or off" -shadowstack log=maybe
bad "-shadowstack bad number" "unwind_limit 'x'" -shadowstack unwind_limit=x
bad "-root-mode bad" "expected 'true' or 'prefix'" -root-mode chroot
QEMU_RULES_CTX_KEEP=zz bad "bad environment value is an error too" "rules-ctx-keep 'zz'"
qemu arm -h > "$TMP/help" 2>&1
expect_grep "options in -h" "QEMU_RULES_IDLE_MS" "$TMP/help"
finish
