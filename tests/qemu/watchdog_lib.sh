# Helpers shared by the watchdog_*.sh tests (sourced after tests/lib.sh).
wd() { echo "$GDIR/wd-$1"; }
WD_ARCHES="arm mipsel mips"
# A free-ish loopback port per run (tests run in parallel).
wd_port() { echo $((20000 + RANDOM % 30000)); }
# reports DIR KIND: the report files of a kind in a rules dir
reports() { ls "$1"/cache/ctx/"$2"-*.json 2>/dev/null; }
# jtrue LABEL FILE PY_EXPR: the expression over the report `r` is true
jtrue() {
  local out
  out=$(python3 - "$2" "$3" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
print("true" if ok else "false")
PY
)
  if [ "$out" = "true" ]; then pass "$1"; else fail "$1 ($3 -> $out)"; fi
}
