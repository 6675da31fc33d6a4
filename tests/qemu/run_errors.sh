# sfemu run (docs/run.md, "Exit codes"): bad input gets a clear message and
# its own exit code, before anything is mounted or started.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
RUN=${SFEMU_RUN:?SFEMU_RUN is not set}
code() { # code WANT ERE LABEL ARG...: sfemu ARG... exits WANT saying ERE
  local want=$1 re=$2 label=$3 rc=0 out
  shift 3
  out=$("$RUN" "$@" 2>&1) || rc=$?
  expect_eq "$label: exit $want" "$rc" "$want"
  expect_match "$label: says why" "$re" "$out"
}
code 2 'Usage: sfemu run' "no ROOTFS" run
code 2 'give a number of seconds' "--check abc" run --check abc "$TMP"
code 2 'absolute path in the root' "a relative binary" run "$TMP" -- httpd
code 3 'not a directory' "ROOTFS missing" run "$TMP/missing"
mkdir -p "$TMP/empty/etc"
code 3 'not a firmware root \(no bin/' "a directory without bin/" run "$TMP/empty"
R=$TMP/root
mkdir -p "$R/bin" "$R/usr/sbin"
code 4 'no web server found' "nothing to run" run "$R"
code 4 'cannot read the program' "a missing binary" run "$R" -- /usr/sbin/nope
printf '#!/bin/sh\necho hi\n' > "$R/usr/sbin/httpd"
code 5 'not an ELF file' "a script" run "$R" -- /usr/sbin/httpd
# an ARM guest relabelled as RISC-V (e_machine 243)
cp "$(probe arm)" "$R/usr/sbin/riscv"
printf '\363\000' | dd of="$R/usr/sbin/riscv" bs=1 seek=18 conv=notrunc status=none
code 5 'ELF machine 243 .*not one SFEmu emulates' "an unknown architecture" run "$R" -- /usr/sbin/riscv
cp /bin/true "$R/usr/sbin/true"
code 6 'x86 program .*without emulation' "a host binary" run "$R" -- /usr/sbin/true
# the search finds httpd first, whatever it is: here a script
code 5 'usr/sbin/httpd: not an ELF' "the found httpd is a script" run "$R"
cp "$(probe arm)" "$R/usr/sbin/httpd"
chmod -R a+rX "$TMP"
RC=0
OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$RUN" run --netns "$R" 2>&1) || RC=$?
expect_eq "--netns without privileges: exit 7" "$RC" 7
expect_match "--netns without privileges: says what is needed" \
  '--netns: a network namespace needs CAP_SYS_ADMIN' "$OUT"
check_fails "nothing was mounted" is_mounted "$R"
expect_eq "no upper tree made for refused runs" "$(ls -d "$R.sfemu" 2>/dev/null)" ""
finish
