# Vendor control devices (docs/firmware-pack.md, "Vendor control devices"),
# for ARM, little- and big-endian MIPS guests, without a mount (the engine
# inside qemu) and, for ARM and MIPS, on an sfemu-mount (the daemon's
# engine): a missing /dev/vendor0 opens; its ioctls answer from
# plugins/fakefile/ioctls.conf (a TYPE.NR line for an _IOR number, with a
# reply copied back; a plain number with a reply, declared with the reply's
# size; a -errno), else 0; an ioctl number no line names is logged once,
# with its number and caller; poll and select on the device return at once.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1

RULES=$TMP/rules
cp -r "$SRC/rules_examples" "$RULES"
rm -rf "$RULES"/cache/* "$RULES"/plugins/fakefile/config/* "$RULES"/plugins/fakefile/data/*
cat >> "$RULES/plugins/fakefile/ioctls.conf" <<'CONF'
/dev/vendor0   G.1      0     2a000000
/dev/vendor0   0x1234   7     01020304
/dev/vendor*   G.2      -22
/dev/vendor0   bogus
CONF

for how in plain mount; do
  for arch in arm mipsel mips; do
    [ $how = mount ] && [ $arch = mipsel ] && continue
    R=$TMP/root-$how-$arch LOG=$TMP/log-$how-$arch
    mkdir -p "$R/bin" "$R/etc" "$R/dev"
    cp "$GDIR/life-$arch" "$R/bin/life"
    [ $how = mount ] && mnt "$R" --rules "$RULES" --log "$TMP/daemon-$arch.log"
    run() { SFEMU_LOG=$LOG timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/life" "$@"; }
    # _IOR('G', 1, int) and _IOW('G', 2, int) in the guest's encoding
    case $arch in
      arm) ior=0x80044701 iow=0x40044702 ;;
      *)   ior=0x40044701 iow=0x80044702 ;;
    esac
    out=$(run ioctl /dev/vendor0 $ior 4)
    expect_match "$how $arch a missing vendor device opens" "^open -> [0-9]+ errno=0$" "$out"
    expect_match "$how $arch _IOR('G', 1) answers as configured (G.1), reply copied back" \
      "^ioctl $ior -> 0 errno=0 arg=2a000000$" "$out"
    expect_match "$how $arch a plain number answers its result and reply" \
      "^ioctl 0x1234 -> 7 errno=0 arg=01020304$" "$(run ioctl /dev/vendor0 0x1234 4)"
    expect_match "$how $arch a configured -errno (glob /dev/vendor*)" \
      "^ioctl $iow -> -1 errno=22 arg=00000000$" "$(run ioctl /dev/vendor1 $iow 4)"
    out=$(run ioctl /dev/vendor0 0x5678 0)
    expect_match "$how $arch an unknown number answers 0" "^ioctl 0x5678 -> 0 errno=0 arg=$" "$out"
    # the line is in qemu's log, or on a mount the daemon's (without
    # fakefile.note, the fakeconfig logs where it runs)
    where=$TMP/logs-$how-$arch; cat "$LOG" "$TMP/daemon-$arch.log" > "$where" 2>/dev/null
    expect_grep "$how $arch ... and is logged with its number and caller" \
      "unknown ioctl 0x00005678 \(type 'V', nr 120\) on /dev/vendor0 from pid [0-9]+: answered 0" "$where"
    expect_no_grep "$how $arch configured numbers are not called unknown" "unknown ioctl 0x0000(1234|4701)" "$where"
    expect_grep "$how $arch a bad ioctls.conf line is named" \
      "plugins/fakefile/ioctls.conf:[0-9]+: expected DEVICE IOCTL RESULT" "$where"
    # the run record (-sfanalysis) lists it, where the plugin has fakefile.note
    if [ $how = plain ] && grep -q '^function M.note' "$SRC/rules_examples/plugins/fakefile/init.lua"; then
      SFEMU_LOG=$LOG timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" -sfanalysis "$TMP/an-$arch" \
        "$R/bin/life" ioctl /dev/vendor0 0x5679 0 > /dev/null
      expect_json "$how $arch ... and an unknown number is in the run record's notes" "$TMP/an-$arch/analysis.json" \
        "any(n['source'] == '/dev/vendor0' and 'unknown ioctl 0x00005679' in n['text'] for n in r['notes'])"
    fi
    out=$(run poll /dev/vendor0)
    expect_match "$how $arch poll on the device returns at once" "^poll -> 1 revents=0x[0-9a-f]+ in [0-9]{1,3} ms$" "$out"
    expect_match "$how $arch select on the device returns at once, readable" \
      "^select -> 1 readable=1 in [0-9]{1,3} ms$" "$out"
    [ $how = mount ] && umnt "$R"
  done
done
finish
