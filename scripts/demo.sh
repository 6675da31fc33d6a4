#!/usr/bin/env bash
# The firmware demo (docs/firmware-pack.md, "The demo"): builds a
# router-like root (demo/build-rootfs.sh: Debian BusyBox and libc plus a
# vendor-style httpd), checks it with `sfemu run --check` (the staged
# verdict), then mounts it with sfemu-mount, runs the httpd under the
# patched qemu with a copy of rules_examples/, and shows what it serves:
# the page of NVRAM values, a CGI request that sets a key with the
# firmware's nvram command, and the key in the store.  Loopback only.
#
#   scripts/demo.sh [--no-build] [arm|mipsel|mips]
#
# Exit status 0 only if the page answered 200 with the NVRAM values, the
# CGI set the key and the store holds it.  Env (tests): SFEMU_QEMU_DIR,
# SFEMU_MOUNT, SFEMU_RUN (default: build/), SFEMU_DEMO_DIR (the root's cache,
# build/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=1
ARCH=arm
for a in "$@"; do
  case $a in
    --no-build) BUILD= ;;
    arm|mipsel|mips) ARCH=$a ;;
    *) echo "usage: demo.sh [--no-build] [arm|mipsel|mips]" >&2; exit 2 ;;
  esac
done
[ -z "$BUILD" ] || bash scripts/build.sh
Q=${SFEMU_QEMU_DIR:-build/qemu-hooks}/qemu-$ARCH
M=${SFEMU_MOUNT:-build/mount/sfemu-mount}
RUN=${SFEMU_RUN:-build/run/sfemu}
for b in "$Q" "$M" "$RUN"; do
  [ -x "$b" ] || { echo "demo: $b is missing (run scripts/build.sh)" >&2; exit 1; }
done
step() { printf '\n\033[1m== %s\033[0m\n' "$1"; [ $# -lt 2 ] || printf '$ %s\n' "$2"; }

# The root is cached in build/demo/ (SFEMU_DEMO_DIR), rebuilt when demo/ changes.
ROOT=${SFEMU_DEMO_DIR:-build/demo}/rootfs-$ARCH
STAMP=$( (cat demo/build-rootfs.sh demo/www/* demo/vendor/*; echo "$ARCH") | sha256sum | cut -c1-16)
if [ "$(cat "$ROOT.stamp" 2>/dev/null)" != "$STAMP" ]; then
  step "building the $ARCH firmware root" "demo/build-rootfs.sh $ARCH $ROOT"
  rm -f "$ROOT.stamp"
  bash demo/build-rootfs.sh "$ARCH" "$ROOT"
  echo "$STAMP" > "$ROOT.stamp"
fi

# Everything the run writes goes to a scratch directory: the rules copy (runs
# write into their rules tree), the overlay's upper layer, the run record.
W=$(mktemp -d /tmp/sfemu-demo-fw.XXXXXX)
RULES=$W/rules MNT=$W/root UPPER=$W/upper OUT=$W/analysis
mkdir -p "$MNT"
HPID=
cleanup() {
  [ -z "$HPID" ] || kill "$HPID" 2>/dev/null || true
  if grep -q " $MNT fuse" /proc/self/mounts; then "$M" -u "$MNT" || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
cp -r rules_examples/. "$RULES/"
# A free loopback port for http_lanport (the shipped default is 80).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$((20000 + RANDOM % 20000))
while port_open $PORT; do PORT=$((PORT + 1)); done
D=$RULES/config/nvram.defaults
if grep -q '^http_lanport=' "$D" 2>/dev/null; then
  sed -i "s/^http_lanport=.*/http_lanport=$PORT/" "$D"
else
  echo "http_lanport=$PORT" >> "$D"
fi

# First the one command a user starts with: sfemu run finds the web server,
# picks qemu and the CPU from its ELF, mounts the root, starts it in its own
# pid and network namespaces, and reports in stages.  It keeps its state
# beside the root (ROOT.sfemu), so it runs on a scratch copy of the root.
step "one command: sfemu run finds the service, starts it and checks it answers" \
  "sfemu run --check 40 --netns --rules \$RULES $ROOT"
cp -a "$ROOT" "$W/firmware"
"$RUN" run --check 40 --netns --rules "$RULES" --out "$W/run" "$W/firmware" ||
  { echo "demo: sfemu run --check did not get an answer (record: $W/run/run.txt)" >&2
    cat "$W/run/run.txt" >&2 2>/dev/null || true; exit 1; }
echo "(the run record: run.json and run.txt; the rules that ran most:)"
python3 - "$W/run/run.json" <<'PY' || true
import json, sys
for r in json.load(open(sys.argv[1]))["rules_fired"][:5]:
    print("  %-40s ran %d times, gave the result %d times" % (r["file"], r["calls"], r["intercepted"]))
PY

step "mount the firmware root (writes go to the upper layer)" \
  "sfemu-mount --rules \$RULES --upper \$UPPER $ROOT \$MNT"
"$M" --rules "$RULES" --upper "$UPPER" "$ROOT" "$MNT"

step "start the vendor httpd under SFEmu (it double-forks)" \
  "qemu-$ARCH -L \$MNT -rules \$RULES -sfanalysis \$OUT \$MNT/usr/sbin/httpd"
T0=$(date +%s.%N)
"$Q" -L "$MNT" -rules "$RULES" -sfanalysis "$OUT" "$MNT/usr/sbin/httpd" 2> "$W/httpd.log" || {
  cat "$W/httpd.log" >&2
  echo "demo: the httpd did not start" >&2
  exit 1
}
HPID=$(cat "$MNT/var/run/httpd.pid" 2>/dev/null || true)
URL=http://127.0.0.1:$PORT
ok=
for _ in $(seq 200); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$URL/" || true)" = 200 ]; then ok=1; break; fi
  sleep 0.05
done
T1=$(date +%s.%N)
[ -n "$ok" ] || { cat "$W/httpd.log" >&2; echo "demo: no HTTP 200 from $URL/" >&2; exit 1; }
echo "pid $HPID (in \$MNT/var/run/httpd.pid); first HTTP 200 after $(awk "BEGIN { printf \"%.2f\", $T1 - $T0 }") s"

step "the page: NVRAM values from /dev/nvram, WLCSM and SIOCGIFADDR br0" "curl -si $URL/"
curl -si -m 10 "$URL/" | tee "$W/page"
if ! grep -q '^HTTP/1.0 200' "$W/page" || ! grep -q '<td>lan_ipaddr</td><td>127.0.0.1</td>' "$W/page"; then
  echo "demo: the page lacks the NVRAM values" >&2
  exit 1
fi

VALUE=demo-$ARCH-$$
step "a CGI sets a key with the firmware's nvram command" \
  "curl -s '$URL/cgi-bin/nvram.cgi?key=demo_note&value=$VALUE'"
curl -s -m 20 "$URL/cgi-bin/nvram.cgi?key=demo_note&value=$VALUE" | tee "$W/cgi"
grep -q "demo_note=$VALUE" "$W/cgi" || { echo "demo: the CGI did not set the key" >&2; exit 1; }

step "the store, a plain text file in the upper layer" "grep demo_note \$MNT/sfemu/nvram.txt"
grep "^demo_note=" "$MNT/sfemu/nvram.txt"
grep -qx "demo_note=$VALUE" "$MNT/sfemu/nvram.txt" ||
  { echo "demo: the store lacks demo_note=$VALUE" >&2; exit 1; }

step "the run record (-sfanalysis) lists what the firmware asked for and nobody had" \
  "notes of \$OUT/analysis.json"
python3 - "$OUT"/analysis.json <<'PY' || true
import json, sys
notes = json.load(open(sys.argv[1])).get("notes", [])
for n in notes:
    print("%s: %s (count %d)" % (n.get("source"), n.get("text"), n.get("count", 1)))
if not notes:
    print("(no notes)")
PY

kill "$HPID" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$HPID" 2>/dev/null || break; sleep 0.05; done
HPID=
"$M" -u "$MNT"

step "the same httpd without rules_examples/ (as under stock qemu-user): it fails" \
  "qemu-$ARCH -L $ROOT $ROOT/usr/sbin/httpd"
if "$Q" -L "$ROOT" "$ROOT/usr/sbin/httpd" 2> "$W/stock.log"; then
  echo "demo: the httpd started without the rules" >&2
  exit 1
fi
cat "$W/stock.log"
echo
echo "The firmware root $ROOT was never modified: the writes went to the upper layer."
