# The shared-memory ring between qemu and sfemu-mount (docs/ring.md), from
# ARM and big-endian MIPS guests (suite qemu: tests/meson.build registers
# it).  One state per fake resource: what a guest sets with an ioctl the
# other guest reads back and the shell's cat shows; many forked guests
# hammering one counter give the exact count; forged ring messages are
# rejected with a log line while the daemon keeps serving; the daemon
# killed during a stress run: every guest process finishes and logs the
# fallback once.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
QARM=${SFEMU_QEMU_DIR:-}/qemu-arm
QMIPS=${SFEMU_QEMU_DIR:-}/qemu-mips
FORGE=${SFEMU_RING_FORGE:-}
require "the patched qemu-arm and qemu-mips" test -x "$QARM" -a -x "$QMIPS"
require "the ring forger (SFEMU_RING_FORGE)" test -x "$FORGE"
require "the ARM cross compiler" command -v arm-linux-gnueabi-gcc
require "the MIPS cross compiler" command -v mips-linux-gnu-gcc
R="$TMP/rootfs"; RULES="$TMP/rules"
mk_rootfs "$R"
ring_fixture "$RULES" "$R/bin" || fatal "cannot build the ring fixture"
export SFEMU_WATCHDOG=off SFEMU_LOG="$TMP/qemu.log"
MLOG="$R.sfemu/sfemu-mount.log"
arm() { timeout 120 "$QARM" -L "$R" -rules "${QRULES:-$RULES}" "$R/bin/g-arm" "$@"; }
mips() { timeout 120 "$QMIPS" -L "$R" -rules "${QRULES:-$RULES}" "$R/bin/g-mips" "$@"; }

mnt "$R" --rules "$RULES"
# (an attribute is answered once the daemon's FUSE loop runs: after the ring)
expect_eq "the mount's root names the ring" \
    "$(getfattr --only-values -n user.sfemu.ring "$R" 2>/dev/null)" "$R.sfemu/ring.sock"
expect_grep "the daemon serves the ring" "ring: serving qemu on $R.sfemu/ring.sock" "$MLOG"

# ------------------------------------------------------------ one state
expect_eq "ARM: encoded _IOW set and a raw 0x89f0 reach the daemon's handler" \
    "$(arm set /dev/ring0 color=blue)" "set=0 raw=7"
expect_grep "the daemon created the device (fakefile.init over the ring)" \
    "fakefile: init /dev/ring0 kind=dev" "$MLOG"
expect_eq "big-endian MIPS: _IOWR get reads what the ARM guest set" \
    "$(mips get /dev/ring0 color)" "get=0 value=blue"
expect_eq "MIPS sets" "$(mips set /dev/ring0 size=large)" "set=0 raw=7"
expect_eq "ARM reads what MIPS set" "$(arm get /dev/ring0 size)" "get=0 value=large"
expect_eq "cat on the mount shows the state the guests set (one state)" \
    "$(cat "$R/dev/ring0")" "bumps=0 raw=2 color=blue size=large"
expect_eq "a guest that closes every fd (qemu's ring connection too) still reaches the daemon" \
    "$(arm closeall /dev/ring0 color)" "get=0 after closing every fd: get=0 value=blue"
expect_no_grep "no qemu served a fake itself" "served inside this qemu" "$TMP/qemu.log"
expect_no_grep "same rules tree: no note about it" "rules tree" "$TMP/qemu.log"

# Another -rules tree than the mount's: said once, the daemon still serves.
cp -a "$RULES" "$TMP/other"
QRULES="$TMP/other" arm get /dev/ring0 color > "$TMP/other.out"
expect_eq "with another -rules tree the daemon's state still answers" \
    "$(cat "$TMP/other.out")" "get=0 value=blue"
expect_grep "which tree serves the fakes is said" \
    "served by the sfemu-mount daemon from the rules tree $RULES, not from -rules $TMP/other" \
    "$TMP/qemu.log"

# ------------------------------------------------------------ stress
if out=$(arm hammer /dev/ring0 500 6) && mout=$(mips hammer /dev/ring0 500 4); then
    pass "10 forked guest processes bumped the counter"
else
    fail "hammer: $out $mout"
fi
expect_eq "every ARM child: 500 ok" "$(echo "$out" | grep -c ' ok=500 bad=0$')" "6"
expect_eq "every MIPS child: 500 ok" "$(echo "$mout" | grep -c ' ok=500 bad=0$')" "4"
expect_eq "the count is exact: 5000 bumps, none lost or doubled" \
    "$(cat "$R/dev/ring0")" "bumps=5000 raw=2 color=blue size=large"

# ------------------------------------------------------------ forged messages
if fout=$("$FORGE" "$R" /dev/ring0); then
    pass "every forged message was refused, an honest one served"
else
    fail "ring-forge: $fout"
fi
expect_grep "garbage on the control socket is logged" "unexpected byte.s. on its control connection" "$MLOG"
expect_grep "an unknown op is logged" "rejected the request in slot 3: unknown op 77" "$MLOG"
expect_grep "a forged length is logged" "in length 4294967040 . path 5 exceed" "$MLOG"
expect_grep "a path without NUL is logged" "not one absolute NUL-terminated string" "$MLOG"
expect_grep "a message from a process that never connected is logged" \
    "pid 1 has no control connection" "$MLOG"
expect_eq "the daemon still serves guests" "$(arm get /dev/ring0 color)" "get=0 value=blue"

# ------------------------------------------------------------ the daemon dies
: > "$TMP/qemu.log"
dpid=$(sed -n 's/.*daemon pid \([0-9]*\) serving.*/\1/p' "$MLOG" | tail -1)
arm run /dev/ring0 3 4 > "$TMP/run.out" & gpid=$!
sleep 1
kill -9 "$dpid"
if wait "$gpid"; then pass "the guest finished after the daemon died"; else fail "the guest: $(cat "$TMP/run.out")"; fi
expect_eq "its 4 processes finished" "$(grep -c '^kid ' "$TMP/run.out")" "4"
for k in $(sed -n 's/^kid \([0-9]*\) .*/\1/p' "$TMP/run.out"); do
    expect_eq "process $k logged the fallback once" \
        "$(grep -c "\[sfemu $k\] fakefile: the sfemu-mount daemon did not answer (it is gone)" "$TMP/qemu.log")" "1"
done
expect_eq "no other fallback line" "$(grep -c 'did not answer' "$TMP/qemu.log")" "4"

# A restarted daemon serves the next guests over the ring again.
"$SFEMU_MOUNT" -u "$R" > /dev/null 2>&1 || true
mnt "$R" --rules "$RULES"
: > "$TMP/qemu.log"
expect_eq "after a restart the ring serves again" "$(mips set /dev/ring0 color=red)" "set=0 raw=7"
expect_eq "and cat sees it" "$(cat "$R/dev/ring0")" "bumps=0 raw=1 color=red"
expect_no_grep "no fallback" "did not answer" "$TMP/qemu.log"
umnt "$R"

# ------------------------------------------------------------ no --rules
# The daemon serves from its copy of the shipped rules_examples, in the
# upper directory: never from (or into) the shipped tree itself.
R2="$TMP/plain"
mk_rootfs "$R2"
cp "$R/bin/g-arm" "$R2/bin/g-arm"
mnt "$R2"
: > "$TMP/qemu.log"
getfattr -n user.sfemu.ring "$R2" > /dev/null 2>&1 || true # the loop runs
expect_grep "without --rules: a copy of the shipped rules tree" \
    "served from $R2.sfemu/rules, a copy of the shipped .*/rules_examples/plugins" "$R2.sfemu/sfemu-mount.log"
expect_eq "a guest's device is served by it (default dev config: ioctl 0)" \
    "$(timeout 120 "$QARM" -L "$R2" -rules "$RULES" "$R2/bin/g-arm" set /dev/nvx0 k=v)" "set=0 raw=0"
check "its generated config lands in the copy" test -f "$R2.sfemu/rules/plugins/fakefile/config/nvx0.fakeconfig.lua"
check_fails "not in the shipped tree" test -e "$SRC/rules_examples/plugins/fakefile/config/nvx0.fakeconfig.lua"
expect_grep "qemu says which tree serves" "from the rules tree $R2.sfemu/rules, not from -rules $RULES" "$TMP/qemu.log"
expect_no_grep "over the ring, no fallback" "did not answer|offers no ring" "$TMP/qemu.log"
umnt "$R2"
# -u returns once the daemon has exited: nothing of it is left, and the
# same upper directory mounts again at once (its lock is free).
expect_eq "after -u no daemon of the mount is left" "$(pgrep -f -- "$R2" || true)" ""
mnt "$R2"
check "the same upper directory mounts again at once" is_mounted "$R2"
umnt "$R2"
# The same tree given relatively to both: the daemon publishes its real
# path, so qemu has nothing to say.
R3="$TMP/rel3"
mk_rootfs "$R3"
cp "$R/bin/g-arm" "$R3/bin/g-arm"
(cd "$TMP" && "$SFEMU_MOUNT" --rules rules rel3) || fail "sfemu-mount --rules rules rel3"
MOUNTS+=("$R3")
: > "$TMP/qemu.log"
(cd "$TMP" && timeout 120 "$QARM" -L rel3 -rules rules rel3/bin/g-arm get /dev/ring0 color > /dev/null)
expect_no_grep "relative --rules and -rules naming one tree: no note about it" "rules tree" "$TMP/qemu.log"
expect_no_grep "a relative -L still finds the mount (the daemon serves)" "not an sfemu-mount|served inside this qemu" "$TMP/qemu.log"
umnt "$R3"
finish
