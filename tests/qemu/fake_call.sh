# c_fake_call, notes and the refresh of read-only shared mappings (issue 16,
# docs/rules-api.md "Fake resources from a rule", docs/fakefile.md "Notes"
# and "mmap"): a rule drives /dev/calldev (tests/fixtures/call.fakeconfig.lua)
# with c_fake_call read/write/ioctl/mmap/getattr, without a mount (the engine
# inside qemu) and on an sfemu-mount (the daemon's engine over the ring);
# a handler's fakefile.note reaches qemu's log once and the -sfanalysis
# record with its count, c_analysis_note too; from the shell the note goes
# to the daemon's log only.  ARM, little- and big-endian MIPS guests map the
# device MAP_SHARED read-only, write and ioctl through another fd, and see
# the new bytes in the mapping.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
require "the patched qemu-arm, qemu-mipsel and qemu-mips" \
    test -x "$QDIR/qemu-arm" -a -x "$QDIR/qemu-mipsel" -a -x "$QDIR/qemu-mips"
require "the probe and fakemap guests" test -x "$GDIR/probe-arm" -a -x "$GDIR/fakemap-mips"
export SFEMU_FAKEFILE_ON=all SFEMU_WATCHDOG=off
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1; }

mk_call_rules() {
    cp -r "$SRC/rules_examples" "$1"
    rm -rf "$1"/plugins/fakefile/config/*.lua "$1"/plugins/fakefile/data/* "$1"/cache/*
    cp "$SRC/tests/fixtures/call.fakeconfig.lua" "$1/plugins/fakefile/config/calldev.fakeconfig.lua"
    # the rule: getppid drives the device; its lines go to the log
    cat > "$1/syscall/getppid.lua" <<'LUA'
local P = "/dev/calldev"
local function show(s) return (s:gsub("%z", "|")) end
function do_syscall(num)
  local r, rep = c_fake_call(P, "write", { data = "lan_ipaddr=127.0.0.1" })
  c_log("CALL write " .. r .. " [" .. rep .. "]")
  r, rep = c_fake_call(P, "write", { data = "http_lanport=80" })
  r, rep = c_fake_call(P, "read", { data = "lan_ipaddr\0", count = 64 })
  c_log("CALL read " .. r .. " [" .. rep .. "]")
  r, rep = c_fake_call(P, "read", { data = "lan_ipaddr\0", count = 4 })
  c_log("CALL short " .. r .. " [" .. rep .. "]")
  for i = 1, 3 do
    r, rep = c_fake_call(P, "read", { data = "wan_proto\0", count = 64 })
  end
  c_log("CALL unknown " .. r .. " [" .. rep .. "]")
  r, rep = c_fake_call(P, "ioctl", { cmd = 0x5555, data = "abc" })
  c_log("CALL ioctl " .. r .. " [" .. rep .. "]")
  r, rep = c_fake_call(P, "mmap", { count = 48 })
  c_log("CALL mmap " .. r .. " [" .. show(rep) .. "]")
  local a
  r, rep, a = c_fake_call(P, "getattr")
  c_log("CALL getattr " .. r .. " [" .. rep .. "] " .. a.type .. " " .. a.size .. " " .. a.mode)
  r, rep = c_fake_call(P, "write", { data = "no equals sign" })
  c_log("CALL bad " .. r)
  r = c_fake_call("/tmp/made.conf", "write", { data = "x" })
  local _, _, t = c_fake_call("/tmp/made.conf", "getattr")
  c_log("CALL made " .. r .. " " .. t.type)
  r, rep = c_fake_call(P, "ioctl", { cmd = 1, data = string.rep("x", 20000) })
  c_log("CALL big " .. r .. " [" .. rep .. "]")
  local ok, err = pcall(c_fake_call, P, "frobnicate")
  c_log("CALL badop " .. tostring(ok) .. " " .. tostring(err))
  c_analysis_note("rule:getppid", "getppid drove " .. P)
  c_analysis_note("rule:getppid", "getppid drove " .. P)
end
LUA
}

# The rule's view, the same with and without a mount.  $1: label, $2: log.
rule_checks() {
    local how=$1 log=$2
    expect_grep "$how: c_fake_call write runs the write handler" "CALL write 20 \[\]" "$log"
    expect_grep "$how: read with the key in ctx.data answers the value" "CALL read 9 \[127\.0\.0\.1\]" "$log"
    expect_grep "$how: count bounds the reply" "CALL short 4 \[127\.\]" "$log"
    expect_grep "$how: an unknown key: 0 and no bytes" "CALL unknown 0 \[\]" "$log"
    expect_grep "$how: ioctl: cmd and argument bytes in, the reply out" "CALL ioctl 3 \[cba\]" "$log"
    expect_grep "$how: mmap serves the mapping's bytes" \
        "CALL mmap 37 \[http_lanport=80\|lan_ipaddr=127\.0\.0\.1\|\]" "$log"
    expect_grep "$how: getattr: its attributes" "CALL getattr 0 \[\] dev 4096 384" "$log"
    expect_grep "$how: a handler's -errno comes back as the guest's" "CALL bad -22" "$log"
    expect_grep "$how: a resource without a record is made (a text file outside /dev)" \
        "CALL made 1 text" "$log"
    expect_grep "$how: ioctl argument bytes beyond 16 KiB: E2BIG" "CALL big -7 \[\]" "$log"
    expect_grep "$how: a bad op is an error naming the argument" \
        "CALL badop false .*c_fake_call: op 'frobnicate' is not read, write, ioctl, mmap or getattr" "$log"
    expect_eq "$how: the handler's note is logged once (3 reads)" \
        "$(grep -c "note: /dev/calldev: calldev: unknown key wan_proto" "$log")" "1"
    expect_eq "$how: c_analysis_note is logged once" \
        "$(grep -c "note: rule:getppid: getppid drove /dev/calldev" "$log")" "1"
}

record_checks() {
    local how=$1 j=$2/analysis.json
    expect_eq "$how: the record's notes: each distinct note with its count" \
        "$(jget "$j" "sorted((n['source'], n['text'], n['count']) for n in d['notes'])")" \
        "[('/dev/calldev', 'calldev: stat from qemu', 1), ('/dev/calldev', 'calldev: unknown key wan_proto', 3), ('rule:getppid', 'getppid drove /dev/calldev', 2)]"
    expect_grep "$how: summary.txt lists them" \
        "/dev/calldev: calldev: unknown key wan_proto \(x3\)" "$2/summary.txt"
}

for arch in arm mipsel mips; do
    # ------------------------------------------------ without a mount
    R="$TMP/root-$arch"
    RULES="$TMP/rules-$arch"
    mkdir -p "$R/bin" "$R/dev" "$R/tmp"
    mk_call_rules "$RULES"
    cp "$GDIR/probe-$arch" "$R/bin/probe"
    cp "$GDIR/fakemap-$arch" "$R/bin/fakemap"
    LOG="$TMP/q-$arch.log"
    run() { SFEMU_LOG="$LOG" qemu "$arch" -L "$R" -rules "$RULES" "$@"; }
    run -sfanalysis "$TMP/an-$arch" "$R/bin/probe" getpid > "$TMP/o" 2>&1
    expect_grep "$arch no mount: the guest ran" "getppid=" "$TMP/o"
    rule_checks "$arch no mount" "$LOG"
    record_checks "$arch no mount" "$TMP/an-$arch"
    expect_grep "$arch no mount: the record was made in the tree" "^type=dev$" "$R/dev/calldev.fakefile"
    # (a forked child's engine is its own copy without a mount: its write
    # does not reach the parent's state)
    expect_eq "$arch no mount: a read-only shared mapping follows writes and ioctls through another fd" \
        "$(run "$R/bin/fakemap" follow /dev/calldev lan_ipaddr=10.0.0.1)" \
        "before=~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ write=19 after=lan_ipaddr=10.0.0.1~~~~~~~~~~~~~ ioctl=0 cleared=~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ child=0 read=0 reread=~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ "
    expect_grep "$arch no mount: the ioctl handler's note (a guest fd)" \
        "note: /dev/calldev: calldev: cleared by pid" "$LOG"

    # ------------------------------------------------ on an sfemu-mount
    R="$TMP/mroot-$arch"
    RULES="$TMP/mrules-$arch"
    ML="$TMP/mount-$arch.log"
    LOG="$TMP/qm-$arch.log"
    mk_rootfs "$R"
    mk_call_rules "$RULES"
    cp "$GDIR/probe-$arch" "$R/bin/probe"
    cp "$GDIR/fakemap-$arch" "$R/bin/fakemap"
    chmod 755 "$R/bin/probe" "$R/bin/fakemap"
    mnt "$R" --rules "$RULES" --log "$ML"
    run -sfanalysis "$TMP/anm-$arch" "$R/bin/probe" getpid > "$TMP/o" 2>&1
    expect_grep "$arch mount: the guest ran" "getppid=" "$TMP/o"
    rule_checks "$arch mount" "$LOG"
    record_checks "$arch mount" "$TMP/anm-$arch"
    expect_no_grep "$arch mount: qemu served nothing itself" "served inside this qemu" "$LOG"
    expect_no_grep "$arch mount: a note over the ring is not in the daemon's log" "unknown key wan_proto" "$ML"
    cat "$R/dev/calldev" > /dev/null
    cat "$R/dev/calldev" > /dev/null
    expect_eq "$arch mount: a note from the shell (FUSE) goes to the daemon's log, once" \
        "$(grep -c "fakefs: /dev/calldev: note: calldev: unknown key $" "$ML")" "1"
    # (the daemon's state outlives the probe: its keys are there before)
    expect_eq "$arch mount: a read-only shared mapping follows writes and ioctls through another fd, and a read after another process's write" \
        "$(run "$R/bin/fakemap" follow /dev/calldev lan_ipaddr=10.0.0.1)" \
        "before=http_lanport=80~lan_ipaddr=127.0 write=19 after=http_lanport=80~lan_ipaddr=10.0. ioctl=0 cleared=~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ child=0 read=4 reread=wan_proto=dhcp~~~~~~~~~~~~~~~~~~ "
    expect_grep "$arch mount: the ioctl handler's note came back over the ring" \
        "note: /dev/calldev: calldev: cleared by pid" "$LOG"
    umnt "$R"
done
finish
