# Private netlink protocol 31 (docs/firmware-pack.md "Netlink", "WLCSM"):
# the host kernel has none, so socket() fails EPROTONOSUPPORT under stock
# qemu and without the rule; with rules_examples/ (syscall_override_user/
# socket.lua, SFEMU_NETLINK_VIRTUAL_ACK) an ARM, a little- and a big-endian
# MIPS guest get a virtual socket: bind/getsockname answered, every request
# that asks for an ACK gets NLMSG_ERROR 0 (in the guest's byte order, from
# the kernel's address), through sendto/sendmsg/send/write and recvfrom/recvmsg/
# recv/read, poll and select; a request without NLM_F_ACK gets nothing.
# Other sockets are untouched (NETLINK_ROUTE, UDP on loopback).
# WLCSM (demo/vendor/wlcsm.c): get/set/unset/getall/commit against the NVRAM
# store (/sfemu/nvram.txt), without and with an sfemu-mount.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
export SFEMU_WATCHDOG=off

ack_checks() {
    local l=$1 o=$2
    expect_grep "$l: socket(AF_NETLINK, SOCK_RAW, 31) gives an fd" "^socket -> fd errno=0$" "$o"
    expect_grep "$l: bind" "^bind -> 0$" "$o"
    expect_grep "$l: getsockname: AF_NETLINK, the pid as port id" "^getsockname -> 0 family=16 pid_is_mine=1 len=12$" "$o"
    expect_grep "$l: poll: nothing before a request" "^poll before a request: 0$" "$o"
    expect_grep "$l: sendto returns the length" "^sendto -> 16$" "$o"
    expect_grep "$l: poll: readable after it" "^poll after a request: 1$" "$o"
    expect_grep "$l: recvfrom: the ACK (error 0, its seq, from the kernel)" \
        "^recvfrom: ack len=36 seq=7 error=0 of type=0x10 seq=7 to_me=1 from=16:0$" "$o"
    expect_grep "$l: sendmsg of three messages" "^sendmsg -> 48$" "$o"
    expect_grep "$l: select: readable" "^select -> 1$" "$o"
    expect_grep "$l: recvmsg: the first ACK" "^recvmsg: ack len=36 seq=8 error=0 of type=0x10 seq=8 to_me=1 from=16:0$" "$o"
    expect_grep "$l: recvmsg: the third (the second asked for none)" "^recvmsg: ack len=36 seq=10 error=0 of type=0x10 seq=10 to_me=1 from=16:0$" "$o"
    expect_grep "$l: then nothing (EAGAIN)" "^then recv -> -1 errno=11$" "$o"
    expect_grep "$l: send" "^send -> 16$" "$o"
    expect_grep "$l: read gives the ACK" "^read: ack len=36 seq=11 error=0 of type=0x10 seq=11 to_me=1$" "$o"
    expect_grep "$l: write" "^write -> 16$" "$o"
    expect_grep "$l: recv gives its ACK" "^recv: ack len=36 seq=13 error=0 of type=0x10 seq=13 to_me=1$" "$o"
    expect_grep "$l: no NLM_F_ACK: no answer" "^no ack asked: send -> 16, poll -> 0$" "$o"
    expect_grep "$l: close" "^close -> 0$" "$o"
    expect_grep "$l: SOCK_NONBLOCK and SOCK_CLOEXEC are kept" "^nonblocking socket: O_NONBLOCK=1 FD_CLOEXEC=1 recv -> -1 errno=11$" "$o"
}

for arch in arm mipsel mips; do
  eproto=93; [ "$arch" != arm ] && eproto=120
  R="$TMP/root-$arch"
  mkdir -p "$R/bin" "$R/tmp"
  cp "$GDIR/nl31-$arch" "$R/bin/nl31"
  run() { timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$SRC/rules_examples" "$R/bin/nl31" "$@"; }

  SFEMU_LOG="$TMP/log-$arch" run ack > "$TMP/o" 2>&1
  ack_checks "$arch" "$TMP/o"
  expect_grep "$arch: the virtual socket is logged" "netlink: protocol 31 is virtual .*SFEMU_NETLINK_VIRTUAL_ACK=auto" "$TMP/log-$arch"
  expect_grep "$arch: the unanswered message is noted for the run record" \
      "note: netlink: protocol 31: message type 0x10 without NLM_F_ACK got no answer" "$TMP/log-$arch"
  timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$SRC/rules_examples" -sfanalysis "$TMP/an-$arch" "$R/bin/nl31" ack > /dev/null 2>&1
  expect_json "$arch: the run record lists the two unanswered messages" "$TMP/an-$arch/analysis.json" \
      "any(n['source'] == 'netlink' and n['count'] == 2 and '0x10 without NLM_F_ACK' in n['text'] for n in r['notes'])"
  SFEMU_NETLINK_VIRTUAL_ACK=on run ack > "$TMP/o" 2>&1
  ack_checks "$arch SFEMU_NETLINK_VIRTUAL_ACK=on" "$TMP/o"

  SFEMU_NETLINK_VIRTUAL_ACK=off run ack > "$TMP/o" 2>&1
  expect_grep "$arch SFEMU_NETLINK_VIRTUAL_ACK=off: socket fails EPROTONOSUPPORT" "^socket -> -1 errno=$eproto$" "$TMP/o"
  if [ -x "$QDIR/qemu-$arch-stock" ]; then # (built for arm and mipsel)
    timeout 60 "$QDIR/qemu-$arch-stock" "$R/bin/nl31" ack > "$TMP/o" 2>&1
    expect_grep "$arch stock qemu: socket fails EPROTONOSUPPORT" "^socket -> -1 errno=$eproto$" "$TMP/o"
  fi
  RN="$TMP/norule-$arch"; cp -a "$SRC/rules_examples" "$RN"; rm "$RN/syscall_override_user/socket.lua"
  timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RN" "$R/bin/nl31" ack > "$TMP/o" 2>&1
  expect_grep "$arch without socket.lua: socket fails EPROTONOSUPPORT" "^socket -> -1 errno=$eproto$" "$TMP/o"

  rm "$RN/syscall/close.lua"; cp "$SRC/rules_examples/syscall_override_user/socket.lua" "$RN/syscall_override_user/"
  timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RN" "$R/bin/nl31" reuse > "$TMP/o" 2>&1
  expect_grep "$arch without close.lua: a virtual socket's reused number is a plain UDP socket" \
      "^reused=1 sendto 4 recv 4$" "$TMP/o"
  run other > "$TMP/o" 2>&1
  expect_grep "$arch: NETLINK_ROUTE is the real one" "^NETLINK_ROUTE socket -> fd$" "$TMP/o"
  expect_grep "$arch: UDP on loopback untouched (bind, getsockname, sendto, recvfrom)" "^udp loopback: 4 \[ping\] from_me=1$" "$TMP/o"
done

# WLCSM: the client library against the NVRAM store.  $1 arch, $2 label,
# $3 the store file as the shell sees it, $4 the log of the store's notes.
wlcsm_checks() {
    local arch=$1 how=$2 file=$3 log=$4 out
    expect_eq "$arch $how: WLCSM get of a defaulted key" "$(wl get lan_ipaddr)" "lan_ipaddr=127.0.0.1"
    expect_eq "$arch $how: WLCSM set" "$(wl set wl_ssid 'sfemu net')" "set ok"
    expect_grep "$arch $how: ... reaches the store file" "^wl_ssid=sfemu net$" "$file"
    expect_eq "$arch $how: WLCSM get of it (another process)" "$(wl get wl_ssid)" "wl_ssid=sfemu net"
    expect_eq "$arch $how: the Broadcom nvram command sees it (/dev/nvram, the same store)" \
        "$(nv get wl_ssid)" "sfemu net"
    check "$arch $how: the nvram command sets a key" nv set from_dev=yes
    expect_eq "$arch $how: WLCSM get sees the device's set" "$(wl get from_dev)" "from_dev=yes"
    out=$(wl getall)
    expect_match "$arch $how: WLCSM getall lists the set key" "^all wl_ssid=sfemu net$" "$out"
    expect_match "$arch $how: ... and the defaults" "^all lan_netmask=255\.0\.0\.0$" "$out"
    expect_eq "$arch $how: ... one entry per key of the store" \
        "$(grep -c '^all ' <<< "$out")" "$(grep -c '^[^#]' "$file")"
    expect_eq "$arch $how: WLCSM unset" "$(wl unset wl_ssid)" "unset ok"
    expect_no_grep "$arch $how: ... gone from the store" "^wl_ssid=" "$file"
    expect_eq "$arch $how: ... and reads as unset" "$(wl get wl_ssid)" "wl_ssid=(unset)"
    expect_eq "$arch $how: WLCSM commit" "$(wl commit)" "commit ok"
    expect_eq "$arch $how: an unknown key reads as unset" "$(wl get wl_no_such)" "wl_no_such=(unset)"
    expect_grep "$arch $how: ... and the store notes it" "nvram: unknown key wl_no_such" "$log"
}

for arch in arm mipsel mips; do
  R="$TMP/wroot-$arch"; LOG="$TMP/wq-$arch.log"
  mkdir -p "$R/bin" "$R/dev" "$R/tmp"
  cp "$GDIR/wlcsmtest-$arch" "$R/bin/wlcsm"
  cp "$GDIR/nvram-$arch" "$R/bin/nvram"
  wl() { SFEMU_LOG="$LOG" timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$SRC/rules_examples" "$R/bin/wlcsm" "$@"; }
  nv() { SFEMU_LOG="$LOG" timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$SRC/rules_examples" "$R/bin/nvram" "$@"; }
  wlcsm_checks "$arch" "no mount" "$R/sfemu/nvram.txt" "$LOG"
  out=$(SFEMU_NETLINK_VIRTUAL_ACK=off wl get lan_ipaddr)
  expect_eq "$arch without the virtual socket WLCSM gets nothing" "$out" "lan_ipaddr=(unset)"
done

R="$TMP/mroot"; RULES="$TMP/mrules"
mk_rootfs "$R"
cp -a "$SRC/rules_examples" "$RULES"
rm -rf "$RULES"/cache/* "$RULES"/plugins/fakefile/data/*
for arch in arm mips; do
  cp "$GDIR/wlcsmtest-$arch" "$R/bin/wlcsm-$arch"
  cp "$GDIR/nvram-$arch" "$R/bin/nvram-$arch"
done
chmod 755 "$R"/bin/*
mnt "$R" --rules "$RULES"
for arch in arm mips; do
  LOG="$TMP/mq-$arch.log"
  wl() { SFEMU_LOG="$LOG" timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/wlcsm-$arch" "$@"; }
  nv() { SFEMU_LOG="$LOG" timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/nvram-$arch" "$@"; }
  # (the store as the upper layer holds it: the mount's view of a file the
  # daemon rewrote can be stale, reported to the lead)
  wlcsm_checks "$arch" "mount" "$R.sfemu/tree/sfemu/nvram.txt" "$R.sfemu/sfemu-mount.log"
  expect_no_grep "mount $arch: qemu served nothing itself" "served inside this qemu" "$LOG"
done
check "mount: the WLCSM set is in the upper layer" grep -q "^from_dev=yes$" "$R.sfemu/tree/sfemu/nvram.txt"
umnt "$R"
check "mount: the firmware tree is untouched" test ! -e "$R/sfemu"
finish
