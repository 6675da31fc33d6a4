# deadloop: a guest that keeps failing to open a missing file gets one
# report with the ring showing open/-ENOENT; the watchdog is off (no hook,
# no cache/) without SFEMU_WATCHDOG, -rules-idle-ms or entry.lua.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SFEMU_SRC/tests/qemu/watchdog_lib.sh"
for arch in $WD_ARCHES; do
  R=$(rules_dir dl-$arch)
  SFEMU_WATCHDOG=1 SFEMU_DEADLOOP_REPEATS=10 timeout 60 \
    "$QDIR/qemu-$arch" -rules "$R" $(wd $arch) openloop /etc/no-such.conf 200 > "$TMP/o" 2>&1
  expect_grep "$arch openloop ran" "openloop 200 failures" "$TMP/o"
  expect_grep "$arch deadloop summary on stderr" "watchdog: deadloop \(tid [0-9]+\).*open.*report .*/cache/ctx/deadloop-" "$TMP/o"
  f=$(reports "$R" deadloop)
  expect_eq "$arch exactly one deadloop report" "$(echo "$f" | grep -c json)" "1"
  [ -n "$f" ] || continue
  expect_json "$arch report kind" "$f" "r['kind'] == 'deadloop' and r['deadloop']['period'] == 1 and r['deadloop']['sequence'][0] in ('open', 'openat')"
  expect_json "$arch ring shows open -ENOENT with its path" "$f" \
    "any(e['name'] in ('open', 'openat') and e['ret'] == -2 and e['errno'] == 'ENOENT' and e['path'] == '/etc/no-such.conf' for e in r['ctx'])"
  expect_json "$arch ring entries have pc and time" "$f" "all(int(e['pc'], 16) != 0 and e['sec'] > 1600000000 for e in r['ctx'])"
  expect_json "$arch missing path listed as a fake resource" "$f" "r['fake_resources']['missing_paths'] == ['/etc/no-such.conf']"
  expect_json "$arch registers and pc" "$f" "'pc' in r['registers'] and int(r['pc'], 16) != 0 and len(r['backtrace']) >= 1"
  expect_json "$arch run id pid-time, tid" "$f" "r['run_id'].startswith(str(r['pid']) + '-') and r['tid'] > 0"
  expect_json "$arch ring holds the syscalls so far (at most 64)" "$f" "10 < len(r['ctx']) <= 64"
  expect_eq "$arch cache layout" "$(cd "$R" && ls -d cache/ctx cache/ai_runs cache/stable_rules log | tr '\n' ' ')" "cache/ai_runs cache/ctx cache/stable_rules log "
  expect_grep "$arch summary in log/" "deadloop" "$(ls "$R"/log/watchdog-*.log)"
  # A secret in the environment never reaches the report.
  SFEMU_WATCHDOG=1 SFEMU_DEADLOOP_REPEATS=10 OPENAI_API_KEY=sk-test-SECRET123 timeout 60 \
    "$QDIR/qemu-$arch" -rules-ctx-keep 8 -rules "$R" $(wd $arch) openloop /etc/no-such.conf 50 > "$TMP/o" 2>&1
  expect_eq "$arch second run: another report, ring of 8" "$(python3 -c "
import json,glob
fs=sorted(glob.glob('$R/cache/ctx/deadloop-*.json'))
print(len(fs), sorted(len(json.load(open(f))['ctx']) for f in fs)[0])")" "2 8"
  expect_no_grep "$arch no secret in reports" "SECRET123" <(cat "$R"/cache/ctx/*.json)
  # Off: no watchdog, no cache/.
  R2=$(rules_dir dloff-$arch)
  SFEMU_DEADLOOP_REPEATS=10 timeout 60 "$QDIR/qemu-$arch" -rules "$R2" $(wd $arch) openloop /etc/no-such.conf 200 > "$TMP/o" 2>&1
  expect_eq "$arch watchdog off: no cache/" "$(ls "$R2")" ""
done
finish
