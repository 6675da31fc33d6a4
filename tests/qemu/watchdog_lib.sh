# Helpers shared by the watchdog_*.sh tests (sourced after tests/lib.sh).
wd() { echo "$GDIR/wd-$1"; }
WD_ARCHES="arm mipsel mips"
# A free-ish loopback port per run (tests run in parallel).
wd_port() { echo $((20000 + RANDOM % 30000)); }
# reports DIR KIND: the report files of a kind in a rules dir
reports() { ls "$1"/cache/ctx/"$2"-*.json 2>/dev/null; }
