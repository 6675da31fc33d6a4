#!/usr/bin/env bash
# The firmware demo's start-up time: from launching the vendor httpd under
# the patched qemu (on an sfemu-mount of the demo root, with a copy of
# rules_examples/) to its first HTTP 200, polled every 5 ms.  Two cases:
#   first start  a fresh upper layer: the NVRAM store is seeded from the
#                defaults and the certificate is generated
#   warm start   the same upper layer again (store and certificate exist)
# Median, min and max of REPS runs of each.  The root is built once with
# demo/build-rootfs.sh.  Results go to docs/BENCHMARKS.md, section
# "## Firmware demo start-up".
#
# Env: SFEMU_QEMU_DIR (default build/qemu-hooks), SFEMU_MOUNT (default
#      build/mount/sfemu-mount), REPS (10), ARCHES ("arm mipsel mips"), NO_DOC=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DOC="$REPO/docs/BENCHMARKS.md"
HEADING="## Firmware demo start-up"
. "$REPO/bench/lib.sh"

REPS=${REPS:-10}
ARCHES=${ARCHES:-arm mipsel mips}
QDIR=${SFEMU_QEMU_DIR:-$REPO/build/qemu-hooks}
MOUNT=${SFEMU_MOUNT:-$REPO/build/mount/sfemu-mount}
die() { echo "demo_startup.sh: $*" >&2; exit 1; }
[[ -x $MOUNT ]] || die "missing $MOUNT"

W=$(mktemp -d /tmp/sfemu-demo-bench.XXXXXX)
MNT=$W/mnt
cleanup() {
  stop_httpd || true
  if grep -q " $MNT fuse" /proc/self/mounts; then "$MOUNT" -u "$MNT" || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$MNT"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
stop_httpd() {
  local pid
  pid=$(cat "$MNT/var/run/httpd.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
}
# one_start ARCH UPPER: seconds from launch to the first 200.
one_start() {
  local t0 t1
  "$MOUNT" --rules "$W/rules" --upper "$2" "$W/root-$1" "$MNT"
  t0=$(date +%s.%N)
  "$QDIR/qemu-$1" -L "$MNT" -rules "$W/rules" "$MNT/usr/sbin/httpd" 2>> "$W/httpd.log" ||
    die "$1: the httpd did not start: $(tail -n 3 "$W/httpd.log")"
  until [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$PORT/" || true)" = 200 ]; do
    sleep 0.005
    [ "$(awk "BEGIN { print ($(date +%s.%N) - $t0 > 30) }")" = 0 ] || die "$1: no HTTP 200 in 30 s"
  done
  t1=$(date +%s.%N)
  stop_httpd
  "$MOUNT" -u "$MNT"
  # The daemon exits after the unmount; its lock on the upper layer goes last.
  flock -w 10 "$2/lock" true
  awk "BEGIN { printf \"%.3f\", $t1 - $t0 }"
}

cp -r "$REPO/rules_examples/." "$W/rules/"
PORT=$((20000 + RANDOM % 20000))
while port_open $PORT; do PORT=$((PORT + 1)); done
D=$W/rules/config/nvram.defaults
if grep -q '^http_lanport=' "$D" 2>/dev/null; then
  sed -i "s/^http_lanport=.*/http_lanport=$PORT/" "$D"
else
  echo "http_lanport=$PORT" >> "$D"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
ROWS=()
for a in $ARCHES; do
  [[ -x $QDIR/qemu-$a ]] || die "missing $QDIR/qemu-$a"
  bash "$REPO/demo/build-rootfs.sh" "$a" "$W/root-$a" 2> "$W/build-$a.log" ||
    die "$a: build-rootfs failed: $(tail -n 3 "$W/build-$a.log")"
  first=() warm=()
  for i in $(seq "$REPS"); do
    rm -rf "$W/upper"
    first+=("$(one_start "$a" "$W/upper")")
    warm+=("$(one_start "$a" "$W/upper")")
  done
  for kind in first warm; do
    declare -n v=$kind
    row="| $a | $kind start | $(echo "${v[@]}" | median %.3f) | $(echo "${v[@]}" | tr ' ' '\n' | sort -g | head -n1) | $(echo "${v[@]}" | tr ' ' '\n' | sort -g | tail -n1) |"
    echo "$row"
    ROWS+=("$row")
    unset -n v
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

[ -z "${NO_DOC:-}" ] || exit 0
SEC=$W/section.md
{
  echo "$HEADING"
  echo
  echo "\`bench/qemu/demo_startup.sh\` (REPS=$REPS): the demo's vendor httpd"
  echo "(docs/firmware-pack.md, \"The demo\") launched under the patched qemu on an"
  echo "sfemu-mount of the demo root with a copy of \`rules_examples/\`, to its first"
  echo "HTTP 200 on loopback (polled every 5 ms).  *First start*: a fresh upper layer"
  echo "(the NVRAM store is seeded, the certificate generated); *warm start*: the same"
  echo "upper layer again.  Seconds; the mount itself is not counted.  Target: under 2 s."
  echo
  echo "| arch | case | median | min | max |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Load average at start: $LOAD_START; at end: $LOAD_END ($(nproc) cores shared with other work)."
} > "$SEC"
bench_write_section "$DOC" "$HEADING" "$SEC"
echo "demo_startup.sh: wrote $HEADING to $DOC"
