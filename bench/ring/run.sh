#!/usr/bin/env bash
# The shared-memory ring's benchmark (not a test), in one run on one
# sfemu-mount: a small ioctl (_IO('R', 3), the counter of
# tests/fixtures/ring.fakeconfig.lua) through the engine inside the process,
# over the ring to the daemon, and as one FUSE round trip (ioctl on the
# mount's file); then from an ARM guest: N ioctls on the mount (over the
# ring) and without a mount (the engine inside qemu), and the same with K
# forked guest processes at once (messages per second, count checked).
# Prints the markdown of docs/BENCHMARKS.md, "## Shared-memory ring".
#
#   bench/ring/run.sh [BUILD_DIR]   (default: build)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
N=${BENCH_N:-20000}
GN=${BENCH_GUEST_N:-20000}
K=${BENCH_KIDS:-4}
W=$(mktemp -d /tmp/sfemu-ringbench.XXXXXX)
R=$W/rootfs
cleanup() { "$BUILD/mount/sfemu-mount" -u "$R" >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$R/bin" "$R/dev" "$W/plain/bin" "$W/plain/dev"
cp -a "$SRC/rules_examples" "$W/rules"
cp "$SRC/tests/fixtures/ring.fakeconfig.lua" "$W/rules/plugins/fakefile/config/ring0.fakeconfig.lua"
arm-linux-gnueabi-gcc -static -O2 -o "$R/bin/g" "$SRC/tests/mount/ring_guest.c"
cp "$R/bin/g" "$W/plain/bin/g"
"$BUILD/mount/sfemu-mount" --rules "$W/rules" "$R"
echo "type=dev" > "$R/dev/ring0.fakefile"
"$BUILD/mount/ring-bench" "$R" "$W/rules" /dev/ring0 "$N" > "$W/ways" 2> /dev/null
way() { awk -v w="$1" -v f="$2" '$1 == w { printf "%.2f", $f / 1000 }' "$W/ways"; }
export SFEMU_WATCHDOG=off SFEMU_LOG=$W/qemu.log
Q=$BUILD/qemu-hooks/qemu-arm
secs() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
before=$(sed -n 's/^bumps=\([0-9]*\).*/\1/p' "$R/dev/ring0")
t_ring=$(secs "$Q" -L "$R" -rules "$W/rules" "$R/bin/g" hammer /dev/ring0 "$GN" 1)
t_plain=$(secs "$Q" -L "$W/plain" -rules "$W/rules" "$W/plain/bin/g" hammer /dev/ring0 "$GN" 1)
t_k=$(secs "$Q" -L "$R" -rules "$W/rules" "$R/bin/g" hammer /dev/ring0 "$GN" "$K")
after=$(sed -n 's/^bumps=\([0-9]*\).*/\1/p' "$R/dev/ring0")
want=$((before + GN + K * GN))
fallbacks=$(grep -c 'did not answer' "$W/qemu.log" || true)
us() { echo "scale=2; $1 / 1000" | bc -l; }
per() { echo "scale=2; $1 * 1000000 / $2" | bc -l; }
rate() { echo "scale=0; $2 / $1" | bc -l; }
cat <<MD
| way (one run, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $N calls) | mean µs | best batch µs |
|---|---|---|
| engine inside the process (\`fakefs_ioctl\`) | $(way engine 2) | $(way engine 3) |
| over the ring to the daemon (\`fakefs_ring_call\`) | $(way ring 2) | $(way ring 3) |
| one FUSE round trip (\`ioctl(2)\` on the mount's file) | $(way fuse 2) | $(way fuse 3) |
| the ring alone (a handler that does nothing) | $(way bare 2) | $(way bare 3) |
| a pipe round trip to another process (the kernel's floor) | $(way pipe 2) | $(way pipe 3) |

| ARM guest, $GN \`ioctl\`s per process | s | µs per ioctl | ioctls/s |
|---|---|---|---|
| 1 process, mounted root (ring) | $t_ring | $(per "$t_ring" "$GN") | $(rate "$t_ring" "$GN") |
| 1 process, no mount (engine inside qemu) | $t_plain | $(per "$t_plain" "$GN") | $(rate "$t_plain" "$GN") |
| $K forked processes, mounted root (ring) | $t_k | $(per "$t_k" $((K * GN))) | $(rate "$t_k" $((K * GN))) |

Counter after the guests: $after, expected $want ($([ "$after" = "$want" ] && echo "exact" || echo "MISMATCH")); fallbacks logged: $fallbacks.
MD
