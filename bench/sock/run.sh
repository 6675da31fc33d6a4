#!/usr/bin/env bash
# Fake sockets' benchmark (not a test), in one run: an ARM guest makes N
# request/reply round trips ("GET color" -> "blue", the line protocol of
# tests/fixtures/sock.fakeconfig.lua) on a missing unix socket served by
# the fakeconfig: without a mount (the engine inside qemu) and on an
# sfemu-mount (the daemon's engine over the ring); and, for scale, the same
# guest against a real server on the path (a host Python process).
# Prints the markdown of docs/BENCHMARKS.md, "## Fake sockets".
#
#   bench/sock/run.sh [BUILD_DIR]   (default: build)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
N=${BENCH_N:-5000}
W=$(mktemp -d /tmp/sfemu-sockbench.XXXXXX)
R=$W/mroot
srv=
cleanup() {
    [ -z "$srv" ] || kill "$srv" 2>/dev/null || true
    "$BUILD/mount/sfemu-mount" -u "$R" >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
G=$BUILD/tests/guest/fakesock-arm
Q=$BUILD/qemu-hooks/qemu-arm
cp -a "$SRC/rules_examples" "$W/rules"
rm -rf "$W/rules/cache"/*
cp "$SRC/tests/fixtures/sock.fakeconfig.lua" "$W/rules/plugins/fakefile/config/x.sock.fakeconfig.lua"
for r in "$W/plain" "$R"; do mkdir -p "$r/bin" "$r/var/run"; cp "$G" "$r/bin/g"; done
export SFEMU_WATCHDOG=off SFEMU_LOG=$W/qemu.log
LOAD=$(cut -d' ' -f1 /proc/loadavg)
# rtt ROOT PATH: "wall cpu" seconds of qemu for N round trips, less a run
# of none (the start)
secs() { /usr/bin/time -f "%e %U %S" -o "$W/t" "$@" > "$W/out"; awk '{ print $1, $2 + $3 }' "$W/t"; }
rtt() {
    local t0 tn
    t0=$(secs "$Q" -L "$1" -rules "$W/rules" "$1/bin/g" rtt "$2" 0)
    tn=$(secs "$Q" -L "$1" -rules "$W/rules" "$1/bin/g" rtt "$2" "$N")
    grep -q "^rtt $N of $N right$" "$W/out" || { echo "wrong replies: $(cat "$W/out")" >&2; exit 1; }
    echo "$t0 $tn" | awk '{ print $3 - $1, $4 - $2 }'
}

t_plain=$(rtt "$W/plain" /var/run/x.sock)
"$BUILD/mount/sfemu-mount" --rules "$W/rules" "$R"
t_ring=$(rtt "$R" /var/run/x.sock)
"$BUILD/mount/sfemu-mount" -u "$R"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("up", flush=True)
for run in range(2):
    c, _ = s.accept(); c.sendall(b"HELLO sfemu\n")
    while True:
        d = c.recv(4096)
        if not d: break
        c.sendall(b"blue\n" * d.count(b"\n"))
    c.close()' "$W/plain/var/run/real.sock" > "$W/srv" &
srv=$!
for _ in $(seq 50); do grep -q up "$W/srv" && break; sleep 0.1; done
t_real=$(rtt "$W/plain" /var/run/real.sock)

us() { echo "$1" | awk -v n="$N" '{ printf "%.1f | %.1f", $1 * 1e6 / n, $2 * 1e6 / n }'; }
cat <<EOF
## Fake sockets

\`bench/sock/run.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores): an ARM guest makes $N request/reply
round trips (\`GET color\` → \`blue\`) on a missing unix socket served by
\`tests/fixtures/sock.fakeconfig.lua\` (a write handler with \`ctx.reply\`, then the read handler
asked); each round trip is two guest syscalls, the pump's two socket calls and two handler calls.
The time of a run with $N round trips less that of a run with none (qemu's start, the connect),
divided by $N: wall clock, and the CPU time of the qemu process (its pump thread included; the
daemon's and the Python server's not). Load average at the start: $LOAD.

| server | µs per round trip | qemu CPU µs per round trip |
|---|---|---|
| fakeconfig, engine inside qemu (no mount) | $(us "$t_plain") |
| fakeconfig, the sfemu-mount daemon over the ring | $(us "$t_ring") |
| a real server on the path (host Python, for scale) | $(us "$t_real") |
EOF
