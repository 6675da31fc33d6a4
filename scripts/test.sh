#!/usr/bin/env bash
# The test command: builds (installing what is missing), runs every suite and
# ends with one line "N passed, N failed[, N skipped]".  Exit 1 on failure.
#  - build/: the patched QEMU and the cross-compiled guests (suite qemu)
#  - build-asan/: our code outside QEMU under ASan+UBSan (unit, mount ...)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --asan || { echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LOGS=()
rm -f build/meson-logs/testlog.json build-asan/meson-logs/testlog.json
meson test -C build --suite qemu --num-processes 2 --print-errorlogs "$@"
LOGS+=(build/meson-logs/testlog.json)
if [ -n "$(meson test -C build-asan --list 2>/dev/null)" ]; then
  meson test -C build-asan --num-processes 2 --print-errorlogs "$@"
  LOGS+=(build-asan/meson-logs/testlog.json)
fi

/usr/bin/python3 - "${LOGS[@]}" <<'PY'
import json, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        counts["failed"] += 1
        print(f"missing test log {path}")
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            counts["passed"] += 1
        elif r == "SKIP":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
line = f'{counts["passed"]} passed, {counts["failed"]} failed'
if counts["skipped"]:
    line += f', {counts["skipped"]} skipped'
print(line)
sys.exit(1 if counts["failed"] else 0)
PY
