# inotify hot reload: an edited fakeconfig or fakecontent takes effect on the
# next operation; a broken fakeconfig keeps the last good version and logs
# file:line.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"; RULES="$TMP/rules"
mk_rootfs "$R"; mk_rules "$RULES"
C="$RULES/plugins/fakefile/config"; D="$RULES/plugins/fakefile/data"
cfg() { # atomic replace, as editors do
    cat > "$C/.v.tmp"
    mv "$C/.v.tmp" "$C/v.fakeconfig.lua"
}
printf 'local f = require("plugins/fakefile")\nreturn { default_state = "s", states = { s = {\n  read = function(ctx) return f.reply_read_bytes(ctx, "%s\\n") end } } }\n' v1 | cfg
mnt "$R" --rules "$RULES" --log "$TMP/log"
echo "type=text" > "$R/tmp/v.fakefile"
expect_eq "initial config" "$(cat "$R/tmp/v")" "v1"
printf 'local f = require("plugins/fakefile")\nreturn { default_state = "s", states = { s = {\n  read = function(ctx) return f.reply_read_bytes(ctx, "%s\\n") end } } }\n' v2 | cfg
sleep 0.3
expect_eq "edited config used without remount" "$(cat "$R/tmp/v")" "v2"
printf 'return { states = {\n\n  oops oops\n}\n' | cfg
sleep 0.3
expect_eq "broken config: last good version kept" "$(cat "$R/tmp/v")" "v2"
expect_grep "broken config logged with file:line" "v.fakeconfig.lua:3:" "$TMP/log"
# in-place edit (no rename) also counts
printf 'local f = require("plugins/fakefile")\nreturn { default_state = "s", states = { s = {\n  read = function(ctx) return f.reply_read_bytes(ctx, "v3\\n") end } } }\n' > "$C/v.fakeconfig.lua"
sleep 0.3
expect_eq "fixed config picked up" "$(cat "$R/tmp/v")" "v3"
# a config edit that changes getattr: the size shown follows at once
printf 'return { default_state = "s", states = { s = { getattr = function(ctx) return { size = 3 } end } } }\n' > "$C/g.fakeconfig.lua"
echo "type=text" > "$R/tmp/g.fakefile"
expect_eq "getattr from the config" "$(stat -c %s "$R/tmp/g")" "3"
printf 'return { default_state = "s", states = { s = { getattr = function(ctx) return { size = 9 } end } } }\n' > "$C/g.fakeconfig.lua"
sleep 0.3
expect_eq "edited getattr shown within the attribute cache time" "$(stat -c %s "$R/tmp/g")" "9"
# fakecontent edits: content and size (attribute cache invalidated)
cat > "$C/c.fakeconfig.lua" <<'LUA'
local f = require("plugins/fakefile")
return { default_state = "s", states = { s = { read = f.default_read_content } } }
LUA
echo "first" > "$D/c.fakecontent"
echo "type=text" > "$R/tmp/c.fakefile"
expect_eq "fakecontent served" "$(cat "$R/tmp/c")" "first"
expect_eq "size of the fakecontent" "$(stat -c %s "$R/tmp/c")" "6"
echo "second, longer" > "$D/c.fakecontent"
sleep 0.3
expect_eq "edited fakecontent served" "$(cat "$R/tmp/c")" "second, longer"
expect_eq "size updated within the attribute cache time" "$(stat -c %s "$R/tmp/c")" "15"
umnt "$R"
finish
