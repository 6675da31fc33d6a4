# c_mkdir_p and c_open_host (whitelist).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
P=$(probe arm)
R=$(rules_dir host)
mkdir -p "$R/cache" "$R/config"
echo "secret-ish" > "$TMP/private.txt"
echo "cfg" > "$R/config/x.conf"
cat > "$R/getppid.lua" <<LUA
function do_syscall(num)
  c_log("mkdir rel=" .. c_mkdir_p("cache/a/b/c"))
  c_log("mkdir dotdot=" .. c_mkdir_p("../escape"))
  c_log("mkdir abs=" .. c_mkdir_p("$TMP/abs/x/y", 448))
  local z = c_open_host("/dev/zero", 0)
  c_log("zero ok=" .. tostring(z >= 0))
  c_log("private=" .. c_open_host("$TMP/private.txt", 0))
  c_log("rules ro=" .. tostring(c_open_host("$R/config/x.conf", 0) >= 0))
  c_log("rules rw=" .. c_open_host("$R/config/x.conf", 2))
  c_log("allowed=" .. tostring(c_open_host("$TMP/allowed.txt", 0) >= 0))
  c_log("missing=" .. c_open_host("/dev/definitely-missing", 0))
  return z
end
LUA
: > "$TMP/allowed.txt"
SFEMU_OPEN_HOST_ALLOW="$TMP/allowed.txt" qemu arm -rules "$R" $P getpid > "$TMP/o" 2>&1
expect_grep "c_mkdir_p relative makes dirs in the rules tree" "mkdir rel=0" "$TMP/o"
[ -d "$R/cache/a/b/c" ] && pass "cache/a/b/c exists" || fail "cache/a/b/c missing"
expect_grep "c_mkdir_p refuses .." "mkdir dotdot=-1$" "$TMP/o"
[ ! -e "$TMP/escape" ] && pass "no escape dir" || fail "escape dir created"
expect_grep "c_mkdir_p absolute (no -L: where the guest would)" "mkdir abs=0" "$TMP/o"
[ "$(stat -c %a "$TMP/abs/x/y")" = 700 ] && pass "c_mkdir_p mode" || fail "mode $(stat -c %a "$TMP/abs/x/y")"
expect_grep "c_open_host /dev/zero" "zero ok=true" "$TMP/o"
expect_grep "c_open_host refuses other host files" "private=-13" "$TMP/o"
expect_grep "c_open_host rules tree read-only" "rules ro=true" "$TMP/o"
expect_grep "c_open_host rules tree not writable" "rules rw=-13" "$TMP/o"
expect_grep "SFEMU_OPEN_HOST_ALLOW" "allowed=true" "$TMP/o"
expect_grep "missing file -ENOENT" "missing=-2" "$TMP/o"
expect_grep "an fd from c_open_host serves as the guest's result" "getppid=[0-9]+$" "$TMP/o"
finish
