# Custom fakeconfigs: the seed's example (require(rules_dir ..
# "plugins/fakefile"), read_fakecontent_lines) and a state machine whose
# state persists in the record.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"; RULES="$TMP/rules"
mk_rootfs "$R"; mk_rules "$RULES"
C="$RULES/plugins/fakefile/config"; D="$RULES/plugins/fakefile/data"
cp "$SRC/tests/fixtures/seed-custom.fakeconfig.lua" "$C/board.txt.fakeconfig.lua"
for i in $(seq 0 19); do echo "line$i"; done > "$D/board.txt.fakecontent"
cat > "$C/door.fakeconfig.lua" <<'LUA'
local fakefile = require("plugins.fakefile")   -- dotted name, rules-relative
return {
  default_state = "closed",
  states = {
    closed = {
      read = function(ctx) return fakefile.reply_read_bytes(ctx, "closed\n") end,
      write = function(ctx)
        if ctx.data:match("^open") then fakefile.set_state(ctx, "open") end
        return #ctx.data
      end,
      getattr = function(ctx) return { size = 7 } end,
    },
    open = {
      read = function(ctx) return fakefile.reply_read_bytes(ctx, "welcome\n") end,
      write = function(ctx)
        if ctx.data:match("^close") then fakefile.set_state(ctx, "closed") end
        return #ctx.data
      end,
      truncate = function(ctx) return 0 end,
      getattr = function(ctx) return { size = 8 } end,
    },
  },
}
LUA
mnt "$R" --rules "$RULES"
echo "type=text" > "$R/etc/board.txt.fakefile"
expect_eq "seed example: lines 0..9 of the fakecontent" "$(wc -l < "$R/etc/board.txt")" "10"
expect_eq "seed example: first line" "$(head -1 "$R/etc/board.txt")" "line0"
expect_eq "no getattr handler: size of the fakecontent" "$(stat -c %s "$R/etc/board.txt")" "$(stat -c %s "$D/board.txt.fakecontent")"
echo "type=text" > "$R/tmp/door.fakefile"
expect_eq "state machine: initial state" "$(cat "$R/tmp/door")" "closed"
expect_grep "record shows default_state" "^state=closed$" "$R/tmp/door.fakefile"
echo open > "$R/tmp/door"
expect_eq "state machine: write moves to 'open'" "$(cat "$R/tmp/door")" "welcome"
expect_grep "record shows the new state" "^state=open$" "$R/tmp/door.fakefile"
expect_eq "getattr handler of the new state (cache invalidated)" "$(stat -c %s "$R/tmp/door")" "8"
umnt "$R"; mnt "$R" --rules "$RULES"
expect_eq "state persists across remount" "$(cat "$R/tmp/door")" "welcome"
echo close > "$R/tmp/door"
expect_eq "and moves back" "$(cat "$R/tmp/door")" "closed"
umnt "$R"
finish
