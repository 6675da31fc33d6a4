# The shell-test harness (tests/lib.sh) itself: a script fails when a check
# failed (the later checks still run), when it ended before finish, when it
# ran no check, when a strict script's command failed, when a check in a
# subshell failed, when a sanitizer report was written; require stops it;
# every check helper both passes and fails; the scratch dir is removed.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1

# case_status NAME < SCRIPT-BODY: runs the body after sourcing the harness,
# prints its exit status; its output is in $TMP/NAME.out.
case_status() {
    { echo 'source "$SFEMU_SRC/tests/lib.sh" || exit 1'; cat; } > "$TMP/$1.sh"
    bash "$TMP/$1.sh" > "$TMP/$1.out" 2>&1
    echo $?
}
summary() { grep '^# [0-9]* checks' "$TMP/$1.out"; }

expect_eq "checks that pass: status 0" "$(case_status ok <<'EOF'
pass a
check b true
check_fails c false
check_fails_with d "No such" ls /nonexistent-sfemu
expect_eq e x x
expect_match f "^b$" "$(printf 'a\nb')"
expect_no_match g "^c$" "$(printf 'a\nb')"
printf 'x\ny\n' > "$TMP/f"
expect_grep h "^y$" "$TMP/f"
expect_no_grep i "^z$" "$TMP/f"
echo '{"n": 2}' > "$TMP/j"
expect_json j "$TMP/j" "r['n'] == 2"
require k true
finish
EOF
)" 0
expect_eq "... all 11 counted" "$(summary ok)" "# 11 checks, 0 failed"

# Every helper fails once; the script goes on to the end.
expect_eq "checks that fail: status 1" "$(case_status bad <<'EOF'
fail a
check b false
check_fails c true
check_fails_with d "No such" true
check_fails_with e "other" ls /nonexistent-sfemu
expect_eq f x y
expect_match g "^c$" "$(printf 'a\nb')"
expect_no_match h "^b$" "$(printf 'a\nb')"
printf 'x\ny\n' > "$TMP/f"
expect_grep i "^z$" "$TMP/f"
expect_no_grep j "^y$" "$TMP/f"
echo '{"n": 2}' > "$TMP/j"
expect_json k "$TMP/j" "r['n'] == 3"
expect_json l "$TMP/missing" "True"
pass after
finish
EOF
)" 1
expect_eq "... every failure counted, the last check ran" "$(summary bad)" "# 13 checks, 12 failed"
case_status diff > /dev/null <<'EOF'
expect_eq lines "$(printf 'a\ny')" "$(printf 'a\nx')"
finish
EOF
expect_grep "... a multi-line difference is shown as a diff" "^    \| \+ y$" "$TMP/diff.out"

expect_eq "no finish: status 1" "$(case_status early <<'EOF'
pass a
exit 0
EOF
)" 1
expect_grep "... said" "FAIL - the script ended before finish" "$TMP/early.out"
expect_eq "no check at all: status 1" "$(case_status none <<<'finish')" 1
expect_eq "a failed check in a subshell and a pipeline counts" "$(case_status sub <<'EOF'
( fail in-subshell )
echo x | while read -r l; do fail in-pipeline; done
finish
EOF
)" 1
expect_eq "... both" "$(summary sub)" "# 2 checks, 2 failed"
expect_eq "require stops the script: status 1" "$(case_status req <<'EOF'
require a false
pass never
finish
EOF
)" 1
expect_no_grep "... the next check did not run" "never" "$TMP/req.out"
expect_eq "strict: a failing command is a failed check, the script goes on" "$(case_status strict <<'EOF'
strict
false
pass after
finish
EOF
)" 1
expect_grep "... named with its line" "FAIL - line 3: 'false' failed \(status 1\)" "$TMP/strict.out"
expect_grep "... and the script went on" "ok   - after" "$TMP/strict.out"
expect_eq "not strict: a failing command alone is not a failure" "$(case_status lax <<'EOF'
false
pass after
finish
EOF
)" 0
expect_eq "a sanitizer report fails the script" "$(case_status san <<'EOF'
echo "ERROR: AddressSanitizer: heap-use-after-free" > "$TMP/asan.42"
pass a
finish
EOF
)" 1
expect_grep "... and is shown" "heap-use-after-free" "$TMP/san.out"
export SFEMU_HARNESS_TEST_OUT=$TMP/scratch.where
expect_eq "a clean script: status 0" "$(case_status scratch <<'EOF'
echo "$TMP" > "$SFEMU_HARNESS_TEST_OUT"
at_exit 'echo ran > "$SFEMU_HARNESS_TEST_OUT.at_exit"'
pass a
finish
EOF
)" 0
where=$(cat "$TMP/scratch.where")
if [ -n "$where" ] && [ ! -e "$where" ]; then
    pass "... its scratch dir is removed"
else
    fail "... its scratch dir is removed ('$where')"
fi
expect_eq "... at_exit ran" "$(cat "$TMP/scratch.where.at_exit")" "ran"
finish
