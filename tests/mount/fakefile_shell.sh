# Fake file life cycle from the shell: a record makes a path fake, ordinary
# tools see the state machine, deleting removes it; lookups never create one.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"; U="$TMP/rootfs.sfemu/tree"; RULES="$TMP/rules"
mk_rootfs "$R"; mk_rules "$RULES"
check_fails_with "--fake-init refuses to write the firmware tree" "not an sfemu-mount mount" \
    "$SFEMU_MOUNT" --rules "$RULES" --fake-init /tmp/x "$R"
mnt "$R" --rules "$RULES"
# probing a missing path creates nothing
check_fails "missing path is missing" cat "$R/tmp/etc/app.conf"
check_fails "stat of a missing path fails" stat "$R/dev/nvram"
expect_eq "lookups never create a fake resource" "$(find "$U" -name '*.fakefile' | wc -l)" "0"
# create: a record beside the path
echo "type=text" > "$R/tmp/etc/app.conf.fakefile"
expect_eq "record makes the path appear" "$(stat -c %F:%s "$R/tmp/etc/app.conf")" "regular empty file:0"
expect_match "listed by readdir" "^app.conf$" "$(ls "$R/tmp/etc")"
expect_eq "served by the engine" "$(getfattr --absolute-names --only-values -n security.sfemu.layer "$R/tmp/etc/app.conf")" "fake"
expect_eq "default text: read is EOF" "$(cat "$R/tmp/etc/app.conf")" ""
check "default text: write succeeds" sh -c 'echo "some data" > "$1"' sh "$R/tmp/etc/app.conf"
expect_eq "default text: write discarded" "$(cat "$R/tmp/etc/app.conf")" ""
expect_grep "record shows the state" "^state=init$" "$R/tmp/etc/app.conf.fakefile"
expect_grep "record shows the last opener" "^last_pid=[1-9]" "$R/tmp/etc/app.conf.fakefile"
expect_grep "record shows the real path" "^path=/tmp/etc/app.conf$" "$R/tmp/etc/app.conf.fakefile"
# the three pieces through the plugin's fakefile.init (C host functions)
"$SFEMU_MOUNT" --rules "$RULES" --fake-init /tmp/test.config=text "$R"
check "fakefile.init: <path>.fakefile in the mount" test -f "$R/tmp/test.config.fakefile"
check "fakefile.init: config/test.config.fakeconfig.lua" test -f "$RULES/plugins/fakefile/config/test.config.fakeconfig.lua"
check "fakefile.init: data/test.config.fakecontent" test -f "$RULES/plugins/fakefile/data/test.config.fakecontent"
expect_grep "fakefile.init: the record names its fakeconfig" \
    "^fakeconfig=plugins/fakefile/config/test.config.fakeconfig.lua$" "$R/tmp/test.config.fakefile"
expect_eq "fakefile.init: path served" "$(stat -c %F "$R/tmp/test.config")" "regular empty file"
"$SFEMU_MOUNT" --rules "$RULES" --fake-init /etc/test.config "$R"   # same basename, other path
expect_grep "fakefile.init: hash suffix for a second path with the same basename" \
    "fakeconfig=plugins/fakefile/config/test.config-[0-9a-f]{8}.fakeconfig.lua" "$R/tmp/etc/test.config.fakefile"
# survives remount
umnt "$R"; mnt "$R" --rules "$RULES"
expect_eq "fake resource persists across remount" "$(getfattr --absolute-names --only-values -n security.sfemu.layer "$R/tmp/etc/app.conf")" "fake"
# names appear and vanish at once although negative entries are cached
check_fails "probe caches a negative entry" cat "$R/tmp/etc/probe"
echo "type=text" > "$R/tmp/etc/probe.fakefile"
expect_eq "record created after a failed probe: path appears at once" "$(stat -c %F "$R/tmp/etc/probe")" "regular empty file"
rm "$R/tmp/etc/probe.fakefile"
check_fails "record removed: path vanishes at once" stat "$R/tmp/etc/probe"
# delete
rm "$R/tmp/etc/app.conf"
if [ ! -e "$R/tmp/etc/app.conf" ] && [ ! -e "$R/tmp/etc/app.conf.fakefile" ]; then
    pass "rm removes the resource and its record"
else
    fail "rm removes the resource and its record (still there)"
fi
# without --rules, records are inert but devices are still never host devices
umnt "$R"; mnt "$R"
expect_eq "without --rules: served empty" "$(cat "$R/tmp/test.config")" ""
finish
