# Interface ioctls (docs/firmware-pack.md "Interfaces"): an ARM, a little-
# and a big-endian MIPS guest ask SIOCGIFINDEX, SIOCGIFADDR, SIOCGIFNETMASK,
# SIOCGIFBRDADDR, SIOCGIFHWADDR, SIOCGIFFLAGS, SIOCGIFMTU, SIOCGIFNAME and
# SIOCGIFCONF for the firmware's interfaces: answered from
# rules_examples/config/netif.conf, whose br0 defaults come from NVRAM
# (lan_ipaddr, lan_netmask, lan_hwaddr: the store); a test config; an
# interface the config does not name keeps the host's answer (lo, and ENODEV
# for one nobody has); bridge, wireless and device-private ioctls fail
# EOPNOTSUPP (stock qemu: ENOTTY); a bad config line is logged with its line.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
export SFEMU_WATCHDOG=off

for arch in arm mipsel mips; do
  R="$TMP/root-$arch"; RULES="$TMP/rules-$arch"
  mkdir -p "$R/bin" "$R/tmp"
  cp "$GDIR/netif-$arch" "$R/bin/netif"
  cp -a "$SRC/rules_examples" "$RULES"
  run() { timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/netif" "$@"; }

  # the shipped config: br0 from NVRAM's defaults
  run show br0 eth0 wl0 lo nosuch0 > "$TMP/o" 2>&1
  expect_grep "$arch br0: index" "^br0 index 101$" "$TMP/o"
  expect_grep "$arch br0: address = NVRAM lan_ipaddr (default 127.0.0.1)" "^br0 addr 127.0.0.1 family=2$" "$TMP/o"
  expect_grep "$arch br0: netmask = NVRAM lan_netmask" "^br0 netmask 255.0.0.0 family=2$" "$TMP/o"
  expect_grep "$arch br0: broadcast from address and netmask" "^br0 broadcast 127.255.255.255 family=2$" "$TMP/o"
  expect_grep "$arch br0: hwaddr, Ethernet" "^br0 hwaddr [0-9a-f:]{17} type=1$" "$TMP/o"
  expect_grep "$arch br0: flags up,broadcast,running,multicast" "^br0 flags 0x1043 up=1$" "$TMP/o"
  expect_grep "$arch br0: mtu" "^br0 mtu 1500$" "$TMP/o"
  expect_grep "$arch br0: SIOCGIFNAME of its index" "^br0 name-of-index br0$" "$TMP/o"
  expect_grep "$arch eth0: no address (EADDRNOTAVAIL, as the kernel says)" "^eth0 addr errno=EADDRNOTAVAIL$" "$TMP/o"
  expect_grep "$arch eth0: hwaddr = NVRAM et0macaddr" "^eth0 hwaddr 02:00:00:00:00:01 type=1$" "$TMP/o"
  expect_grep "$arch wl0: up" "^wl0 flags 0x1043 up=1$" "$TMP/o"
  expect_grep "$arch lo: from the config" "^lo addr 127.0.0.1 family=2$" "$TMP/o"
  expect_grep "$arch lo: loopback hwaddr type" "^lo hwaddr 00:00:00:00:00:00 type=772$" "$TMP/o"
  expect_grep "$arch an interface nobody has: the host's ENODEV" "^nosuch0 index errno=ENODEV$" "$TMP/o"

  # br0 follows the NVRAM store (/sfemu/nvram.txt, edited as the shell would)
  expect_grep "$arch the store was made by the first NVRAM read" "^lan_ipaddr=127.0.0.1$" "$R/sfemu/nvram.txt"
  sed -i -e 's/^lan_ipaddr=.*/lan_ipaddr=127.9.8.7/' -e 's/^lan_netmask=.*/lan_netmask=255.255.255.0/' \
         -e 's/^lan_hwaddr=.*/lan_hwaddr=02:aa:bb:cc:dd:ee/' "$R/sfemu/nvram.txt"
  run show br0 > "$TMP/o" 2>&1
  expect_grep "$arch br0 address from NVRAM lan_ipaddr" "^br0 addr 127.9.8.7 family=2$" "$TMP/o"
  expect_grep "$arch br0 netmask from NVRAM lan_netmask" "^br0 netmask 255.255.255.0 family=2$" "$TMP/o"
  expect_grep "$arch br0 broadcast follows" "^br0 broadcast 127.9.8.255 family=2$" "$TMP/o"
  expect_grep "$arch br0 hwaddr from NVRAM lan_hwaddr" "^br0 hwaddr 02:aa:bb:cc:dd:ee type=1$" "$TMP/o"
  sed -i '/^lan_ipaddr=/d' "$R/sfemu/nvram.txt"
  run show br0 > "$TMP/o" 2>&1
  expect_grep "$arch lan_ipaddr unset: the config's default" "^br0 addr 127.0.0.1 family=2$" "$TMP/o"

  # a test config; lo not named: the host's answers
  cat > "$RULES/config/netif.conf" <<'CONF'
# test
br0 index=7 addr=127.3.4.5 netmask=255.255.0.0 hwaddr=02:11:22:33:44:55 mtu=1400 flags=up,broadcast
wan0 index=8 addr=nvram:wan_ipaddr|127.0.0.9 bogus
wan1 index=9 addr=nvram:wan_ipaddr|127.0.0.9
CONF
  sed -i 's/^wan_ipaddr=.*/wan_ipaddr=127.0.0.5/' "$R/sfemu/nvram.txt"
  SFEMU_LOG="$TMP/log" run show br0 lo wan0 wan1 > "$TMP/o" 2>&1
  expect_grep "$arch config: index" "^br0 index 7$" "$TMP/o"
  expect_grep "$arch config: addr" "^br0 addr 127.3.4.5 family=2$" "$TMP/o"
  expect_grep "$arch config: netmask" "^br0 netmask 255.255.0.0 family=2$" "$TMP/o"
  expect_grep "$arch config: broadcast" "^br0 broadcast 127.3.255.255 family=2$" "$TMP/o"
  expect_grep "$arch config: hwaddr" "^br0 hwaddr 02:11:22:33:44:55 type=1$" "$TMP/o"
  expect_grep "$arch config: flags" "^br0 flags 0x3 up=1$" "$TMP/o"
  expect_grep "$arch config: mtu" "^br0 mtu 1400$" "$TMP/o"
  expect_grep "$arch config: name of index 7" "^br0 name-of-index br0$" "$TMP/o"
  expect_grep "$arch lo not named: the host's index" "^lo index 1$" "$TMP/o"
  expect_grep "$arch lo not named: the host's address" "^lo addr 127.0.0.1 family=2$" "$TMP/o"
  expect_grep "$arch lo not named: the host's mtu" "^lo mtu 65536$" "$TMP/o"
  expect_grep "$arch a bad line is logged with its file and line" "netif: config/netif.conf:3: 'bogus' is not key=value" "$TMP/log"
  expect_grep "$arch ... and ignored (the host's ENODEV)" "^wan0 index errno=ENODEV$" "$TMP/o"
  expect_grep "$arch nvram: value from the store's wan_ipaddr" "^wan1 addr 127.0.0.5 family=2$" "$TMP/o"

  run conf > "$TMP/o" 2>&1
  expect_grep "$arch SIOCGIFCONF without a buffer: the size" "^conf size ok=1$" "$TMP/o"
  expect_grep "$arch SIOCGIFCONF lists br0 from the config" "^conf br0 127.3.4.5$" "$TMP/o"
  expect_grep "$arch SIOCGIFCONF lists wan1" "^conf wan1 127.0.0.5$" "$TMP/o"
  expect_grep "$arch SIOCGIFCONF keeps the host's lo" "^conf lo 127.0.0.1$" "$TMP/o"

  run private > "$TMP/o" 2>&1
  for c in SIOCBRADDBR SIOCDEVPRIVATE 'SIOCDEVPRIVATE\+1' SIOCIWFIRSTPRIV SIOCGIWNAME; do
    expect_grep "$arch $c: EOPNOTSUPP" "^$c -> -1 EOPNOTSUPP$" "$TMP/o"
  done
  if [ -x "$QDIR/qemu-$arch-stock" ]; then # (built for arm and mipsel)
    timeout 60 "$QDIR/qemu-$arch-stock" "$R/bin/netif" private > "$TMP/o" 2>&1
    expect_grep "$arch stock qemu answers them ENOTTY" "^SIOCDEVPRIVATE -> -1 ENOTTY$" "$TMP/o"
  fi
done
finish
