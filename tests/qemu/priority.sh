# Rule priority: syscall_override_user/ > syscall_override/ > syscall/ > the
# flat V2 layout; SFEMU_RULES_OVERRIDE_DIR replaces the override list; a
# directory without entry.lua/finish.lua works the same.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
P=$(probe mipsel)
R=$(rules_dir prio)
mkdir -p "$R/syscall" "$R/syscall_override" "$R/syscall_override_user" "$R/mine"
rule() { echo "function do_syscall(num) return $2 end" > "$R/$1/getppid.lua"; }
flat() { echo "function do_syscall(num) return $1 end" > "$R/getppid.lua"; }
run() { qemu mipsel -rules "$R" $P getpid 2>&1 | grep -oE 'getppid=[0-9]+' | cut -d= -f2; }
flat 10
expect_eq "flat V2 layout" "$(run)" "10"
rule syscall 20
expect_eq "syscall/ over flat" "$(run)" "20"
rule syscall_override 30
expect_eq "syscall_override/ over syscall/" "$(run)" "30"
rule syscall_override_user 40
expect_eq "syscall_override_user/ highest" "$(run)" "40"
rule mine 50
expect_eq "SFEMU_RULES_OVERRIDE_DIR replaces the list" \
  "$(SFEMU_RULES_OVERRIDE_DIR=mine:syscall_override_user run)" "50"
expect_eq "SFEMU_RULES_OVERRIDE_DIR order (absolute)" \
  "$(SFEMU_RULES_OVERRIDE_DIR=$R/syscall_override:mine run)" "30"
rm "$R/syscall_override_user/getppid.lua"
expect_eq "SFEMU_RULES_OVERRIDE_DIR without the user dir skips it" \
  "$(SFEMU_RULES_OVERRIDE_DIR=mine run)" "50"
expect_eq "back to syscall_override/" "$(run)" "30"
finish
