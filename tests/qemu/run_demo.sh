# sfemu run (docs/run.md) on the firmware demo's roots (demo/: arm and
# mipsel with Debian BusyBox and libc, big-endian mips static; the
# vendor-style httpd double-forks and reads NVRAM through /dev/nvram):
# found by the search, the architecture and CPU detected from the ELF, it
# answers a well-formed page with --check --netns; the unknown NVRAM keys
# the httpd asked for are in the record's notes; the forked httpd reaches
# the sfemu-mount daemon over the ring from inside the service's pid
# namespace (no fallback to a second copy of the fake state, and no 10 s
# wait for it).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
RUN=${SFEMU_RUN:?SFEMU_RUN is not set}
n=0
for a in $ARCHES; do
  case $a in
    arm) q=arm endian=little ;;
    mipsel) q=mipsel endian=little ;;
    mips) q=mips endian=big ;;
    *) continue ;;
  esac
  n=$((n + 1))
  ROOT=$TMP/root-$a
  require "$a: the demo root" bash "$SRC/demo/build-rootfs.sh" "$a" "$ROOT"
  MOUNTS+=("$(realpath "$ROOT")")
  RC=0
  timeout 120 "$RUN" run --check 40 --netns --out "$TMP/o-$a" "$ROOT" > "$TMP/o-$a.log" 2>&1 || RC=$?
  expect_eq "$a: the demo httpd: --check exits 0" "$RC" 0
  J=$TMP/o-$a/run.json
  expect_json "$a: found /usr/sbin/httpd by the search" "$J" \
    "r['binary']['path'] == '/usr/sbin/httpd' and r['binary']['chosen_by'] == 'search'"
  expect_json "$a: qemu-$q, $endian-endian, a CPU chosen from the ELF" "$J" \
    "r['arch']['qemu'] == '$q' and r['arch']['endian'] == '$endian' and r['arch']['cpu_why'] != ''"
  expect_json "$a: answered a well-formed page" "$J" \
    "r['reached'] == 'well_formed' and r['ports'][0]['http_code'] == 200"
  expect_json "$a: the unknown NVRAM keys are in the notes" "$J" \
    "any('unknown key http_debug' in n['text'] for n in r['notes']) and any('unknown key demo_note' in n['text'] for n in r['notes'])"
  expect_json "$a: answered within 5 s of the start" "$J" "r['stages']['answered']['t'] < 5"
  expect_no_grep "$a: the forked httpd kept the daemon's ring" 'did not answer' "$TMP/o-$a/service.log"
  check_fails "$a: unmounted at the end" is_mounted "$ROOT"
done
[ $n -gt 0 ] || fail "no demo architecture in ARCHES ($ARCHES)"
finish
