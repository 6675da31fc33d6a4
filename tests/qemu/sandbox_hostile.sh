# The rule sandbox against hostile rules (tests/fixtures/hostile/*.lua): each
# runaway or broken getppid rule is stopped, its failure is logged once, the
# real getppid runs and the guest finishes (a hang is a failure: every run
# is under `timeout 60`, and the whole battery under meson's 300 s test
# timeout; each stopped run takes about 1 s).  Then one rule file tries to
# change what another sees (globals, _G, load, string.format, the string
# metatable).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
P=$(probe arm)
for f in "$SRC"/tests/fixtures/hostile/*.lua; do
  name=$(basename "$f" .lua)
  want=$(sed -n '1s/^-- stopped: //p' "$f")
  envs=$(sed -n 's/^-- env: //p' "$f")
  R=$(rules_dir "h-$name")
  cp "$f" "$R/getppid.lua"
  # qemu's parent is timeout: the real getppid gives its pid
  env $envs timeout 60 "$QDIR/qemu-arm" -rules "$R" "$P" getpid > "$TMP/o" 2>&1 &
  parent=$!
  wait $parent; rc=$?
  expect_eq "$name: the guest finishes" "$rc" "0"
  expect_grep "$name: the real getppid ran" "^getpid=[0-9]+ getppid=$parent$" "$TMP/o"
  expect_eq "$name: logged once, as expected" \
    "$(grep -cE "rule $R/getppid.lua (failed: .*$want|$want)" "$TMP/o")" "1"
  expect_eq "$name: no other rule line" "$(grep -c "rule " "$TMP/o")" "1"
done

# Each file's environment is its own.
R=$(rules_dir isolation)
cat > "$R/getppid.lua" <<'LUA'
x_from_getppid = 1
_G.y_from_getppid = 2
load("z_from_getppid = 3")()
string.format = function() return "hijacked" end
getmetatable("").__index.upper = function() return "hijacked" end
table.concat = nil
shared.note = "shared works"
function do_syscall(num) end
LUA
cat > "$R/write.lua" <<'LUA'
local said
function do_syscall(num)
  if said then return end
  said = true
  c_log("sees: " .. table.concat({ tostring(x_from_getppid),
    tostring(y_from_getppid), tostring(z_from_getppid),
    string.format("%d", 7), ("abc"):upper(),
    getmetatable("").__index.upper("abc"), tostring(shared.note) }, " "))
end
LUA
qemu arm -rules "$R" "$P" getpid > "$TMP/o" 2>&1; rc=$?
expect_eq "isolation: the guest finishes" "$rc" "0"
expect_grep "another file sees none of one file's changes, and shared" \
  "sees: nil nil nil 7 ABC ABC shared works$" "$TMP/o"
expect_no_grep "no rule failed" "rule .*(failed|not loaded)" "$TMP/o"
finish
