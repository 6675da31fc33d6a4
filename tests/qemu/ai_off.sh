# AI repair is off by default: with the examples' entry.lua and finish.lua
# nothing is written under cache/ai_runs/ and the guests behave as under
# stock qemu.  Enabled without SFEMU_AI_AUTO_CONTINUE and without a terminal,
# the confirmation answers "no_tty": the guest goes on, no tool runs.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
source "$SRC/tests/qemu/ai_lib.sh"
TOOL=$TMP/tool.sh
printf '#!/bin/sh\ntouch %s/tool-ran\n' "$TMP" > "$TOOL"
chmod +x "$TOOL"
for arch in $AI_ARCHES; do
  R=$(ai_rules off-$arch)
  for mode in missing ioctl loop ok; do
    timeout 60 "$QDIR/qemu-$arch-stock" "$(aifix $arch)" $mode > "$TMP/stock" 2>/dev/null; want=$?
    SFEMU_AI_CMD="$TOOL" SFEMU_AI_REPAIR_ON_ERROR=1 timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(aifix $arch)" $mode > "$TMP/out" 2>"$TMP/err"; rc=$?
    expect_eq "$arch $mode: exit status as stock" "$rc" "$want"
    check "$arch $mode: output as stock" cmp "$TMP/stock" "$TMP/out"
    expect_no_grep "$arch $mode: no ai line" "ai: " "$TMP/err"
  done
  check "$arch nothing under cache/ai_runs" test -z "$(ls -A "$R/cache/ai_runs" 2>/dev/null)"
  check "$arch the tool never ran" test ! -e "$TMP/tool-ran"
  check "$arch nothing in syscall_override" test -z "$(ls -A "$R/syscall_override")"

  R=$(ai_rules notty-$arch)
  setsid -w env SFEMU_AI_ENABLE=1 SFEMU_AI_CMD="$TOOL" timeout 60 "$QDIR/qemu-$arch" -rules "$R" "$(aifix $arch)" missing > "$TMP/o" 2>&1 < /dev/null; rc=$?
  expect_eq "$arch no terminal: the guest goes on" "$rc" "1"
  expect_grep "$arch no terminal: declined, logged" "ai: exit: not confirmed \(no_tty\): the guest goes on without AI" "$TMP/o"
  check "$arch no terminal: the tool never ran" test ! -e "$TMP/tool-ran"
  check "$arch no terminal: no attempt recorded" test -z "$(ls -A "$R/cache/ai_runs" 2>/dev/null)"
done
finish
