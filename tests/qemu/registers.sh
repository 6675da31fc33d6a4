# Registers through gdbstub: c_list_regs, c_get_reg, c_set_reg on arm, mips
# (big and little endian) and aarch64; a register set in a rule is what the
# guest reads after the syscall.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
declare -A REG=( [arm]=r4 [mips]=s0 [mipsel]=s0 [aarch64]=x19 )
declare -A NR=( [arm]=r7 [mips]=v0 [mipsel]=v0 [aarch64]=x8 )
for arch in arm mips mipsel aarch64; do
  P=$(probe $arch)
  R=$(rules_dir regs-$arch)
  cat > "$R/getppid.lua" <<LUA
function do_syscall(num, ...)
  local regs = c_list_regs()
  local names = {}
  for _, r in ipairs(regs) do names[r.name] = r.num end
  c_log("have pc=" .. tostring(names.pc ~= nil) .. " count=" .. #regs)
  local nr, size, rc = c_get_reg("${NR[$arch]}")
  c_log(string.format("nr=%d size=%d rc=%d match=%s", nr, size, rc, tostring(nr == num)))
  local pc, psize, prc = c_get_reg("pc")
  c_log(string.format("pc rc=%d nonzero=%s", prc, tostring(pc ~= 0)))
  local byn = c_get_reg(names.pc)
  c_log("pc by number=" .. tostring(byn == pc))
  local n, src = c_set_reg("${REG[$arch]}", 0x1234)
  c_log(string.format("set n=%d rc=%d", n, src))
  local _, _, bad = c_get_reg("no_such_reg")
  local _, bad2 = c_set_reg("no_such_reg", 1)
  c_log(string.format("bad %d %d", bad, bad2))
  return c_do_syscall(num, ...)
end
LUA
  qemu $arch -rules "$R" $P regs > "$TMP/o" 2>&1
  expect_grep "$arch c_list_regs has pc" "have pc=true count=[1-9]" "$TMP/o"
  expect_grep "$arch c_get_reg reads the syscall number register" "match=true" "$TMP/o"
  expect_grep "$arch c_get_reg(pc)" "pc rc=0 nonzero=true" "$TMP/o"
  expect_grep "$arch c_get_reg by gdb number" "pc by number=true" "$TMP/o"
  expect_grep "$arch c_set_reg reports bytes" "set n=(4|8) rc=0" "$TMP/o"
  expect_grep "$arch guest sees the register set by the rule" "regs after=0x1234" "$TMP/o"
  expect_grep "$arch unknown register is an error" "bad -22 -22" "$TMP/o"
done
finish
