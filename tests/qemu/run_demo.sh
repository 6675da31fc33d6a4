# sfemu run (docs/run.md) on the firmware demo's arm root (demo/: Debian
# BusyBox and libc, the vendor-style httpd that double-forks and reads
# NVRAM through /dev/nvram): found by the search, it answers a well-formed
# page with --check --netns; the unknown NVRAM keys the httpd asked for are
# in the record's notes; the forked httpd reaches the sfemu-mount daemon
# over the ring from inside the service's pid namespace (no fallback to a
# second copy of the fake state, and no 10 s wait for it).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
RUN=${SFEMU_RUN:?SFEMU_RUN is not set}
ROOT=$TMP/root
require "the demo's arm root" bash "$SRC/demo/build-rootfs.sh" arm "$ROOT"
MOUNTS+=("$(realpath "$ROOT")")
RC=0
timeout 120 "$RUN" run --check 40 --netns --out "$TMP/o" "$ROOT" > "$TMP/o.log" 2>&1 || RC=$?
expect_eq "the demo httpd: --check exits 0" "$RC" 0
J=$TMP/o/run.json
expect_json "found /usr/sbin/httpd by the search" "$J" \
  "r['binary']['path'] == '/usr/sbin/httpd' and r['binary']['chosen_by'] == 'search'"
expect_json "answered a well-formed page on the NVRAM port" "$J" \
  "r['reached'] == 'well_formed' and r['ports'][0]['http_code'] == 200"
expect_json "the unknown NVRAM keys are in the notes" "$J" \
  "any('unknown key http_debug' in n['text'] for n in r['notes'])"
expect_json "answered within 5 s of the start" "$J" "r['stages']['answered']['t'] < 5"
expect_no_grep "the forked httpd kept the daemon's ring" 'did not answer' "$TMP/o/service.log"
check_fails "unmounted at the end" is_mounted "$ROOT"
finish
