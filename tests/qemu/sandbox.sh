# Rules run in a restricted environment: no os.execute, io, io.popen,
# package.loadlib, binary chunks, files outside the rules tree, or secrets.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
P=$(probe arm)
R=$(rules_dir sb)
mkdir -p "$R/lib"
echo 'return { value = 42 }' > "$R/lib/helper.lua"
echo 'return { value = "outside" }' > "$TMP/outside.lua"
cat > "$R/getppid.lua" <<LUA
local function try(label, f)
  local ok, err = pcall(f)
  c_log(label .. (ok and " ALLOWED" or " blocked"))
end
try("os.execute", function() return os.execute("touch $TMP/pwned") end)
try("io.open", function() return io.open("/etc/passwd") end)
try("io.popen", function() return io.popen("id") end)
try("package.loadlib", function() return package.loadlib("libc.so.6", "system") end)
try("require outside", function() return require("$TMP/outside") end)
try("dofile outside", function() return dofile("/etc/passwd") end)
try("binary chunk", function() assert(load(string.dump(function() end))) end)
try("os.remove", function() return os.remove("$TMP/x") end)
try("debug.sethook", function() return debug.sethook(function() end, "c") end)
try("require inside", function() assert(require("lib.helper").value == 42) end)
try("rawget _G io", function() assert(rawget(_G, "io") == nil) end)
c_log("secret=" .. tostring(os.getenv("OPENAI_API_KEY")) .. " path=" .. tostring(os.getenv("SFEMU_TEST_PLAIN")))
function do_syscall(num) end
LUA
OPENAI_API_KEY=sk-very-secret SFEMU_TEST_PLAIN=visible qemu arm -rules "$R" $P getpid > "$TMP/o" 2>&1
for f in os.execute io.open io.popen package.loadlib "require outside" "dofile outside" "binary chunk" os.remove debug.sethook; do
  expect_grep "$f is blocked" "$f blocked" "$TMP/o"
done
expect_grep "require inside the rules tree works" "require inside ALLOWED" "$TMP/o"
expect_grep "no io in _G" "rawget _G io ALLOWED" "$TMP/o"
expect_grep "credential-like env vars read as nil" "secret=nil path=visible" "$TMP/o"
expect_no_grep "the secret never reaches the log" "sk-very-secret" "$TMP/o"
[ ! -e "$TMP/pwned" ] && pass "os.execute did not run" || fail "os.execute ran"
finish
