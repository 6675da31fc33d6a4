# Process life under rules_examples (docs/firmware-pack.md, "Process life"),
# for ARM, little- and big-endian MIPS guests, each run inside a new pid
# namespace (unshare) whose pid 1 is a bash with a SIGUSR1 trap and which
# holds two host processes: a `sleep` in the shell's group and a `setsid
# sleep` (a process group of the host).  So a kill that escapes the rules
# hits only the namespace, never the machine.
#   kill(-1, SIGKILL), kill(-host group, SIGKILL), kill(host pid, SIGTERM),
#   kill(1, SIGUSR1),
#   tkill(1, ..), tgkill(1, 1, ..), reboot(RESTART / POWER_OFF / HALT): the
#   guest gets 0 and goes on, nothing is hit, and the rules log each with
#   the caller and the arguments it passed.  The same guest under
#   qemu-*-stock (built for arm and mipsel) does hit them: it really issues
#   the calls.
#   A service killing its own children (by pid, by their own process group,
#   by a session's group) sees them die exactly as under stock qemu.
#   A watchdog daemon on a missing /dev/watchdog, and on a device node in
#   the root (c 1 3: if it were opened for real, /dev/null would answer
#   ENOTTY): every WDIOC_* ioctl answers as a driver, the timeout set is the
#   timeout read, writes succeed, and each kind is logged once.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
require "unshare (a pid namespace for the kills)" unshare -pf --mount-proc true

cat > "$TMP/ns.sh" <<'SH'
# pid 1 of a new pid namespace: the victims, then the command ("@GRP@" is
# the negated pid of the host process group, "@HOSTPID@" its pid), then
# what survived.
trap 'echo usr1 >> "$MARK"' USR1
sleep 60 & v=$!
setsid sleep 60 & g=$!
sleep 0.2
args=()
for a in "$@"; do a=${a//@GRP@/-$g}; args+=("${a//@HOSTPID@/$g}"); done
"${args[@]}"
sleep 0.1
kill -0 $v 2>/dev/null && echo "victim alive" || echo "victim dead"
kill -0 $g 2>/dev/null && echo "group alive" || echo "group dead"
[ -s "$MARK" ] && echo "pid 1 got SIGUSR1" || echo "pid 1 got nothing"
kill -9 $v $g 2>/dev/null
exit 0
SH

RULES=$TMP/rules
cp -r "$SRC/rules_examples" "$RULES"
rm -rf "$RULES"/cache/* "$RULES"/plugins/fakefile/config/* "$RULES"/plugins/fakefile/data/*

for arch in arm mipsel mips; do
  R=$TMP/root-$arch LOG=$TMP/log-$arch
  mkdir -p "$R/bin" "$R/etc" "$R/dev"
  cp "$GDIR/life-$arch" "$R/bin/life"
  usr1=10; case $arch in mips*) usr1=16 ;; esac
  stock=$QDIR/qemu-$arch-stock
  [ -x "$stock" ] || stock=
  ns() { # ns VARIANT ARG...: the guest under the rules ("") or stock ("-stock")
    local q=$QDIR/qemu-$arch$1
    shift
    : > "$TMP/mark"
    if [ -z "${q##*-stock}" ]; then
      MARK=$TMP/mark timeout 60 unshare -pf --mount-proc bash "$TMP/ns.sh" "$q" "$R/bin/life" "$@"
    else
      MARK=$TMP/mark SFEMU_LOG=$LOG timeout 60 unshare -pf --mount-proc bash "$TMP/ns.sh" \
        "$q" -L "$R" -rules "$RULES" "$R/bin/life" "$@"
    fi
  }

  out=$(ns "" kill -1 9 3)
  expect_eq "$arch kill(-1, SIGKILL) three times returns 0 each time" "$(grep -c '^kill -> 0 errno=0$' <<< "$out")" 3
  expect_match "$arch ... and the guest goes on" "^after$" "$out"
  expect_match "$arch ... every other process survives" "^victim alive$" "$out"
  expect_grep "$arch ... logged with the caller" \
    "proclife: neutralised kill\(-1, SIGKILL\) from pid [0-9]+ \(/bin/life\): nothing sent" "$LOG"
  expect_eq "$arch ... once" "$(grep -c 'neutralised kill(-1' "$LOG")" 1
  [ -n "$stock" ] && expect_match "$arch ... the guest really issues it: under stock qemu the victim dies" \
    "^victim dead$" "$(ns -stock kill -1 9)"

  if grep -q 'c_analysis_note' "$SRC/qemu-hooks/runtime/api/"*.c; then
    QEMU_SFANALYSIS=$TMP/an-$arch ns "" kill -1 9 > /dev/null
    expect_json "$arch ... and it is a note of the run record (-sfanalysis)" "$TMP/an-$arch/analysis.json" \
      "any(n['source'] == 'proclife' and 'kill(-1, SIGKILL)' in n['text'] for n in r['notes'])"
  fi

  out=$(ns "" kill @GRP@ 9)
  expect_match "$arch kill(-pgid) of a host process group: nothing sent" "^group alive$" "$out"
  expect_grep "$arch ... logged" "neutralised kill\(-[0-9]+, SIGKILL\) \(a process group with host processes\) from pid" "$LOG"
  [ -n "$stock" ] && expect_match "$arch ... under stock qemu the group dies" "^group dead$" "$(ns -stock kill @GRP@ 9)"

  out=$(ns "" kill @HOSTPID@ 15)
  expect_match "$arch kill(pid) of a host process outside the guest's group (killall): nothing sent" \
    "^group alive$" "$out"
  expect_grep "$arch ... logged" "neutralised kill\([0-9]+, SIGTERM\) \(a host process\) from pid" "$LOG"
  [ -n "$stock" ] && expect_match "$arch ... under stock qemu it dies" "^group dead$" "$(ns -stock kill @HOSTPID@ 15)"

  for call in "kill 1 $usr1" "tkill 1 $usr1" "tgkill 1 1 $usr1"; do
    set -- $call
    out=$(ns "" $call)
    expect_match "$arch $1 to pid 1: nothing sent, the guest goes on" "^pid 1 got nothing$" "$out"
    expect_grep "$arch ... logged" "neutralised $1\((1, )+SIGUSR1\) from pid [0-9]+ \(/bin/life\)" "$LOG"
    [ -n "$stock" ] && expect_match "$arch ... under stock qemu pid 1 gets it" "^pid 1 got SIGUSR1$" "$(ns -stock $call)"
  done

  for cmd in 0x01234567:RESTART 0x4321fedc:POWER_OFF 0xcdef0123:HALT; do
    out=$(ns "" reboot ${cmd%:*})
    expect_match "$arch reboot(${cmd#*:}) returns 0 and the guest goes on" "^after$" "$out"
    expect_grep "$arch ... logged" "neutralised reboot\(${cmd#*:}\) from pid [0-9]+ \(/bin/life\)" "$LOG"
  done

  # A service's own children: exactly as under stock qemu.
  want=$'child0 signaled 15\nchild1 signaled 9\nchild2 signaled 1'
  : > "$LOG"
  out=$(SFEMU_LOG=$LOG timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/life" children)
  expect_eq "$arch own children killed by pid, by group and by session group" \
    "$(grep '^child' <<< "$out")" "$want"
  [ -n "$stock" ] && expect_eq "$arch ... as under stock qemu" \
    "$(timeout 60 "$stock" "$R/bin/life" children | grep '^child')" "$want"
  expect_no_grep "$arch ... and nothing neutralised" "neutralised" "$LOG"

  # Watchdog daemons.
  for node in missing node; do
    rm -f "$R/dev/watchdog" "$R/dev/watchdog.fakefile"
    [ $node = node ] && mknod "$R/dev/watchdog" c 1 3
    : > "$LOG"
    out=$(SFEMU_LOG=$LOG timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/life" wdt /dev/watchdog)
    expect_match "$arch watchdog ($node): open succeeds" "^open -> [0-9]+ errno=0$" "$out"
    expect_match "$arch watchdog ($node): WDIOC_GETSUPPORT answers as a driver" \
      "^identity=SFEmu watchdog \(fake\) options=0x8180$" "$out"
    expect_match "$arch watchdog ($node): the timeout set is the timeout read" "^timeout=30$" "$out"
    expect_eq "$arch watchdog ($node): writes and keepalives succeed" \
      "$(grep -c -E '^(write|WDIOC_KEEPALIVE|magic close) -> (1|0) errno=0$' <<< "$out")" 7
    expect_eq "$arch watchdog ($node): writes logged once, with the caller" \
      "$(grep -c -E 'neutralised a write of 1 bytes on the watchdog /dev/watchdog from pid [0-9]+' "$LOG")" 1
    expect_eq "$arch watchdog ($node): keepalives logged once" \
      "$(grep -c 'neutralised WDIOC_KEEPALIVE on the watchdog' "$LOG")" 1
  done
  expect_grep "$arch a watchdog node in the root is replaced by a fake" \
    "/dev/watchdog is now a fake resource \(a watchdog device" "$LOG"
done
finish
