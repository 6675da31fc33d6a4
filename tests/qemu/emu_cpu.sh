# The CPU model from the guest ELF (docs/emulator.md): a MIPS program built
# for the 74Kc with DSP r2 dies with SIGILL on QEMU's default 24Kf (stock)
# and runs under -rules without -cpu; -cpu and -cpu-auto off keep the
# default; the choice is logged once and readable from Lua as sfemu.cpu.
source "$SFEMU_SRC/tests/lib.sh"
D="$GDIR/dspr2-mipsel"
R=$(rules_dir cpu)
# probe's getppid: the rule answers with what it sees of the CPU choice.
cat > "$R/getppid.lua" <<'LUA'
function do_syscall(num)
  c_log("lua cpu=" .. tostring(sfemu.cpu) .. " cpu_auto=" .. tostring(sfemu.cpu_auto)
        .. " opt=" .. tostring(sfemu.options["cpu-auto"]))
end
LUA
E=$(rules_dir empty)
want='mul.ph=0x000f0008'

"$QDIR/qemu-mipsel-stock" "$D" > "$TMP/stock" 2>&1; rc=$?
expect_eq "stock qemu: the DSPr2 program dies with SIGILL" "$rc" 132
qemu mipsel "$D" > "$TMP/plain" 2>&1; rc=$?
expect_eq "without -rules: stock behaviour (SIGILL)" "$rc" 132
qemu mipsel -rules "$E" "$D" > "$TMP/auto" 2>&1; rc=$?
expect_eq "with -rules, no -cpu: runs" "$rc" 0
expect_grep "with -rules: the DSPr2 result" "^$want$" "$TMP/auto"
expect_grep "the choice is logged" "cpu model 74Kf .*MIPS32r2 DSP DSPr2 \(\.MIPS\.abiflags\)" "$TMP/auto"
n=$(grep -c "cpu model" "$TMP/auto")
expect_eq "logged once" "$n" 1
qemu mipsel -cpu-auto on "$D" > "$TMP/on" 2>&1; rc=$?
expect_eq "-cpu-auto on without -rules: runs" "$rc" 0
qemu mipsel -rules "$E" -cpu 24Kf "$D" > "$TMP/given" 2>&1; rc=$?
expect_eq "-cpu wins over the ELF (SIGILL on 24Kf)" "$rc" 132
expect_no_grep "-cpu: nothing chosen" "cpu model" "$TMP/given"
QEMU_CPU=24KEc qemu mipsel -rules "$E" "$D" > "$TMP/env" 2>&1; rc=$?
expect_eq "QEMU_CPU wins too (24KEc has DSP r1 only)" "$rc" 132
qemu mipsel -rules "$E" -cpu-auto off "$D" > "$TMP/off" 2>&1; rc=$?
expect_eq "-cpu-auto off keeps QEMU's default" "$rc" 132

# Lua sees the running model and the setting.
qemu mipsel -rules "$R" "$(probe mipsel)" getpid > "$TMP/lua" 2>&1
expect_grep "sfemu.cpu and sfemu.cpu_auto (mipsel)" "lua cpu=74Kf cpu_auto=true opt=true" "$TMP/lua"
qemu mipsel -rules "$R" -cpu 24Kf "$(probe mipsel)" getpid > "$TMP/lua2" 2>&1
expect_grep "sfemu.cpu is the given model" "lua cpu=24Kf cpu_auto=true" "$TMP/lua2"
qemu mipsel -rules "$R" -cpu-auto off "$(probe mipsel)" getpid > "$TMP/lua3" 2>&1
expect_grep "sfemu.cpu with -cpu-auto off: QEMU's default" "lua cpu=24Kf cpu_auto=false opt=false" "$TMP/lua3"

# ARM: 'any' already has every A-profile feature; the attributes are read
# and reported (Debian's armel compiler targets ARMv5TE).
qemu arm -rules "$R" "$(probe arm)" getpid > "$TMP/arm" 2>&1
expect_grep "ARM: attributes read, model any" "cpu model any .*ARMv5TE.*\(\.ARM\.attributes\)" "$TMP/arm"
expect_grep "ARM: sfemu.cpu" "lua cpu=max cpu_auto=true" "$TMP/arm"

# With -guest-exec off, an exec'd child runs in a new qemu (binfmt_misc,
# here in a user namespace of the test's own) that chooses again from the
# child's ELF; QEMU_CPU in the environment is -cpu for every process.
# (Guest exec itself, on by default with -rules: tests/qemu/emu_exec.sh.)
magic='\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08\x00'
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xfe\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
binfmt() {  # binfmt OUT COMMAND...: COMMAND with mipsel ELFs run by our qemu
  local out=$1; shift
  unshare -Urm bash -c '
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || exit 99
    printf "%s" ":sfemu-mipsel:M::$1:$2:$3:" > /proc/sys/fs/binfmt_misc/register || exit 98
    shift 3; "$@"' _ "$magic" "$mask" "$QDIR/qemu-mipsel" "$@" > "$out" 2>&1
}
binfmt "$TMP/exec" env QEMU_RULES="$E" QEMU_GUEST_EXEC=off "$QDIR/qemu-mipsel" "$D" "$(probe mipsel)" hello; rc=$?
if [ $rc = 99 ] || [ $rc = 98 ]; then
  fail "binfmt_misc in a user namespace is not available here (rc=$rc)"
else
  expect_grep "exec: the parent chose from its ELF (DSPr2)" "cpu model 74Kf .*MIPS32r2 DSP DSPr2" "$TMP/exec"
  expect_grep "exec: the child chose again from its own ELF (no DSP)" "cpu model 74Kf .*from the ELF: MIPS32r2 \(\.MIPS\.abiflags\)" "$TMP/exec"
  n=$(grep -c "cpu model" "$TMP/exec")
  expect_eq "exec: one choice per program (the pid stays across execve)" "$n" 2
  binfmt "$TMP/exec2" env QEMU_RULES="$E" QEMU_GUEST_EXEC=off QEMU_CPU=24KEc "$QDIR/qemu-mipsel" -cpu 74Kf "$D" "$D"
  n=$(grep -c "^mul.ph=0x000f0008$" "$TMP/exec2")
  expect_eq "exec: -cpu runs the parent, QEMU_CPU (24KEc) the child, which dies" "$n" 1
  expect_no_grep "exec: nothing chosen when -cpu/QEMU_CPU is given" "cpu model" "$TMP/exec2"
fi
finish
