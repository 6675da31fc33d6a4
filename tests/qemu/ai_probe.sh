# The validation window with SFEMU_PROBE_HTTP: a select() loop serving HTTP
# fails to open its optional config (SFEMU_AI_REPAIR_ON_ERROR on openat
# ENOENT); after the fix the window ends with an HTTP probe.  The service
# answers: validated.  A probe nobody answers: rejected, rolled back (the
# watchdog's own dead-loop check, which asks the same probe, may reject it
# first: a deadloop in the window).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
source "$SRC/tests/qemu/watchdog_lib.sh"
cat > "$TMP/fix.lua" <<'LUA'
function do_syscall(num, dirfd, path, flags)
  if c_read_string(path, 64) == "/etc/httpd-extra.conf" then
    return 1, c_open_host("/dev/null", 0)
  end
  return 0, 0
end
LUA
TOOL=$TMP/tool.sh
ai_tool "$TOOL" "$TMP/fix.lua"
arch=arm
for case in answers silent; do
  R=$(ai_rules probe-$case)
  port=$(wd_port)
  probe=127.0.0.1:$port
  [ $case = silent ] && probe=127.0.0.1:$((port + 1))
  SFEMU_AI_ENABLE=1 SFEMU_AI_AUTO_CONTINUE=1 SFEMU_AI_CMD="$TOOL" \
    SFEMU_AI_REPAIR_ON_ERROR=1 SFEMU_AI_REPAIR_SYSCALLS=openat SFEMU_AI_REPAIR_ERRNOS=ENOENT \
    SFEMU_AI_VALIDATE_MS=500 SFEMU_PROBE_HTTP=$probe \
    timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(wd $arch)" httpd $port 3 /etc/httpd-extra.conf > "$TMP/o" 2>&1; rc=$?
  expect_eq "$case: the server ran to its end" "$rc" "0"
  v=$(verdicts "$R")
  [ -n "$v" ] || { fail "$case: no attempt"; continue; }
  if [ $case = answers ]; then
    expect_eq "$case: one attempt" "$(echo "$v" | grep -c json)" "1"
    expect_json "answers: validated after the probe" "$v" \
      "r['verdict'] == 'validated' and r['validation']['http_probe']['answered'] is True and r['validation']['http_probe']['status'] == 200 and 'answers HTTP' in r['why'] and r['retry']['ret'] >= 0"
  else
    for f in $v; do
      expect_json "silent: $(basename "$(dirname "$f")") rejected, rolled back" "$f" \
        "r['verdict'] == 'rejected' and r['rolled_back'] == 1 and r['why'] in ('the service does not answer HTTP (SFEMU_PROBE_HTTP)', 'deadloop during the validation window (worse)')"
    done
    check "silent: the probe's answer rejected one" grep -q '"why":.*"the service does not answer HTTP (SFEMU_PROBE_HTTP)"' $v
    check "silent: the fix is gone" test ! -e "$R/syscall_override/openat.lua"
  fi
done
finish
