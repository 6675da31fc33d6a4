# A select() loop that serves HTTP on 127.0.0.1 while this test curls it.
# Each round also fails to open an optional file, so without the probe the
# repeating (open -ENOENT, select 0) sequence is reported as a deadloop;
# with SFEMU_PROBE_HTTP=127.0.0.1:PORT the detector asks the service and,
# as it answers, writes no report.  Also c_async_probe_http/c_probe_result.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SFEMU_SRC/tests/qemu/watchdog_lib.sh"
for arch in $WD_ARCHES; do
  for probe in off on; do
    R=$(rules_dir http-$probe-$arch)
    port=$(wd_port)
    env=(SFEMU_WATCHDOG=1 SFEMU_DEADLOOP_REPEATS=10)
    [ $probe = on ] && env+=(SFEMU_PROBE_HTTP=127.0.0.1:$port)
    env "${env[@]}" timeout 60 "$QDIR/qemu-$arch" -rules "$R" $(wd $arch) httpd $port 4 /etc/httpd-extra.conf > "$TMP/o" 2>&1 &
    pid=$!
    got=0
    for i in $(seq 1 40); do
      if curl -s -m 2 "http://127.0.0.1:$port/" 2>/dev/null | grep -q ok; then got=$((got + 1)); fi
      [ $got -ge 5 ] && break
      sleep 0.1
    done
    wait $pid
    expect_eq "$arch probe=$probe: curl got answers" "$got" "5"
    expect_grep "$arch probe=$probe: server ran" "httpd served [0-9]+" "$TMP/o"
    if [ $probe = off ]; then
      f=$(reports "$R" deadloop)
      expect_eq "$arch without the probe: a deadloop report" "$(echo "$f" | grep -c json)" "1"
      [ -n "$f" ] && expect_json "$arch the loop's sequence, no probe" "$f" \
        "len(r['deadloop']['sequence']) == 2 and set(r['deadloop']['sequence']) & {'open', 'openat'} and r['deadloop']['http_probe'] is None"
    else
      expect_eq "$arch with the probe: no deadloop report" "$(reports "$R" deadloop)" ""
      expect_grep "$arch the probe said the service answers" "the service answers HTTP: not a dead loop" "$TMP/o"
    fi
  done
  # The Lua API: a probe of the running server and of a closed port.
  R=$(rules_dir httpapi-$arch)
  port=$(wd_port)
  cat > "$R/_newselect.lua" <<LUA
local id1, id2, done
function do_syscall(num, ...)
  if not id1 then
    id1 = c_async_probe_http("127.0.0.1:$port", 2000)
    id2 = c_async_probe_http("127.0.0.1:1", 2000)
    c_log("ids " .. id1 .. " " .. id2 .. " bad " .. c_async_probe_http("10.0.0.1:80", 10) .. " " .. c_async_probe_http("nohost", 10))
    c_log("pending " .. tostring(c_probe_result(id1) == nil))
  elseif not done then
    local ok, st, ms = c_probe_result(id1)
    local ok2, st2 = c_probe_result(id2)
    if ok ~= nil and ok2 ~= nil then
      done = true
      c_log("probe1 " .. tostring(ok) .. " " .. st .. " probe2 " .. tostring(ok2) .. " " .. st2)
      c_log("unknown " .. table.concat({tostring(select(1, c_probe_result(9999))), select(2, c_probe_result(9999))}, " "))
    end
  end
  return c_do_syscall(num, ...)
end
LUA
  cp "$R/_newselect.lua" "$R/select.lua"
  cp "$R/_newselect.lua" "$R/pselect6.lua"
  timeout 60 "$QDIR/qemu-$arch" -rules "$R" $(wd $arch) httpd $port 2 > "$TMP/o" 2>&1
  expect_grep "$arch c_async_probe_http returns ids, -EPERM, -EINVAL" "ids 1 2 bad -1 -22" "$TMP/o"
  expect_grep "$arch c_probe_result is nil while pending" "pending true" "$TMP/o"
  expect_grep "$arch the server answers, a closed port refuses" "probe1 true 200 probe2 false -(111|146)" "$TMP/o"
  expect_grep "$arch unknown probe id" "unknown false -2" "$TMP/o"
done
finish
