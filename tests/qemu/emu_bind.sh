# Any-address bind (docs/emulator.md), in a network namespace of its own
# (loopback only, nothing is ever sent): binds to 192.0.2.1 (standing in
# for the firmware's br0 address), 255.255.255.255 (a missing NVRAM key)
# and an IPv6 address the host lacks land on 127.0.0.1 / ::1, same port;
# getsockname answers what the guest asked for; SO_BINDTODEVICE br0 is a
# logged no-op; a privileged port as non-root becomes port + 8000; every
# listening socket is logged and recorded.  The address a socket got is
# read on the host side (ss).
source "$SFEMU_SRC/tests/lib.sh"
E=$(rules_dir empty)
chmod 755 "$TMP" "$E"

# run_ns OUT QEMU-ARGS... : runs bindtest in a fresh netns, records `ss`
# while the guest holds its sockets, into OUT.guest and OUT.ss.
run_ns() {
  local out=$1; shift
  unshare -n bash -c '
    ip link set lo up
    out=$1; shift
    mkfifo "$out.in"
    "$@" < "$out.in" > "$out.guest" 2>&1 &
    exec 3> "$out.in"
    for i in $(seq 200); do grep -q "^ready" "$out.guest" && break; sleep 0.05; done
    ss -ltnH > "$out.ss"; ss -lunH | sed "s/^/udp /" >> "$out.ss"
    echo go >&3; exec 3>&-; wait' _ "$out" "$@"
}
has_v6=0
unshare -n bash -c 'ip link set lo up; ip -6 addr show dev lo' | grep -q '::1/128' && has_v6=1

specs="tcp4:192.0.2.1:8081 tcp4:255.255.255.255:8082 udp4:192.0.2.1:8084 bindtodevice:br0 sc4:192.0.2.1:8088"
[ $has_v6 = 1 ] && specs="$specs tcp6:2001:db8::1:8083"
for arch in arm mipsel mips; do
  G="$GDIR/bindtest-$arch"
  run_ns "$TMP/s-$arch" "$QDIR/qemu-$arch" -rules "$E" -sfanalysis "$TMP/an-$arch" "$G" $specs
  o="$TMP/s-$arch"
  expect_grep "$arch 192.0.2.1: bind succeeds, getsockname shows it" "^tcp4:192.0.2.1:8081 bind=0 getsockname=192.0.2.1:8081$" "$o.guest"
  expect_grep "$arch 192.0.2.1: the socket got 127.0.0.1:8081" "^LISTEN .* 127\.0\.0\.1:8081 " "$o.ss"
  expect_grep "$arch 255.255.255.255: getsockname" "^tcp4:255.255.255.255:8082 bind=0 getsockname=255.255.255.255:8082$" "$o.guest"
  expect_grep "$arch 255.255.255.255: the socket got 127.0.0.1:8082" "^LISTEN .* 127\.0\.0\.1:8082 " "$o.ss"
  expect_no_grep "$arch nothing listens on 255.255.255.255" "255\.255\.255\.255" "$o.ss"
  expect_grep "$arch udp 192.0.2.1: the socket got 127.0.0.1:8084" "^udp .* 127\.0\.0\.1:8084 " "$o.ss"
  expect_grep "$arch SO_BINDTODEVICE br0: a no-op" "^bindtodevice:br0 setsockopt=0$" "$o.guest"
  expect_grep "$arch SO_BINDTODEVICE: logged" "setsockopt SO_BINDTODEVICE \"br0\": the host refuses it" "$o.guest"
  expect_grep "$arch listening socket logged with both addresses" "listening: tcp 127\.0\.0\.1:8081 \(asked 192\.0\.2\.1:8081\)" "$o.guest"
  n=$(grep -c "listening: tcp 127.0.0.1:8081" "$o.guest")
  expect_eq "$arch listening socket logged once" "$n" 1
  if [ $arch != arm ]; then  # MIPS o32 also has socketcall(2)
    expect_grep "$arch socketcall: getsockname" "^sc4:192.0.2.1:8088 bind=0 getsockname=192.0.2.1:8088$" "$o.guest"
    expect_grep "$arch socketcall: the socket got 127.0.0.1:8088" "^LISTEN .* 127\.0\.0\.1:8088 " "$o.ss"
  fi
  if [ $has_v6 = 1 ]; then
    expect_grep "$arch 2001:db8::1: getsockname" "^tcp6:2001:db8::1:8083 bind=0 getsockname=2001:db8::1:8083$" "$o.guest"
    expect_grep "$arch 2001:db8::1: the socket got [::1]:8083" "^LISTEN .* \[::1\]:8083 " "$o.ss"
  fi
  jq_out=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1]))
print(' '.join(l['asked']+'>'+l['got'] for l in d['sockets_listening']))" "$TMP/an-$arch/analysis.json" 2>&1)
  case "$jq_out" in
    *"192.0.2.1:8081>127.0.0.1:8081"*"255.255.255.255:8082>127.0.0.1:8082"*) pass "$arch run record: sockets_listening asked/got" ;;
    *) fail "$arch run record: sockets_listening ($jq_out)" ;;
  esac
done

# Without -rules: stock behaviour (the bind fails).
run_ns "$TMP/p" "$QDIR/qemu-arm" "$GDIR/bindtest-arm" tcp4:192.0.2.1:8081
expect_grep "without -rules: the bind fails as with stock qemu" "^tcp4:192.0.2.1:8081 bind=-99 " "$TMP/p.guest"
# -bind-fallback given without -rules; another fallback address.
run_ns "$TMP/f" "$QDIR/qemu-arm" -bind-fallback 127.0.0.2 "$GDIR/bindtest-arm" tcp4:192.0.2.1:8081
expect_grep "-bind-fallback 127.0.0.2: the socket got it" "^LISTEN .* 127\.0\.0\.2:8081 " "$TMP/f.ss"
run_ns "$TMP/o" "$QDIR/qemu-arm" -rules "$E" -bind-fallback off "$GDIR/bindtest-arm" tcp4:192.0.2.1:8081
expect_grep "-bind-fallback off: the bind fails" "^tcp4:192.0.2.1:8081 bind=-99 " "$TMP/o.guest"

# Wildcards stay wildcards unless -bind-wildcard loopback.
w="tcp4:0.0.0.0:8086"
[ $has_v6 = 1 ] && w="$w tcp6:::8085"
run_ns "$TMP/wk" "$QDIR/qemu-mipsel" -rules "$E" "$GDIR/bindtest-mipsel" $w
expect_grep "wildcard kept by default" "^LISTEN .* 0\.0\.0\.0:8086 " "$TMP/wk.ss"
run_ns "$TMP/wl" "$QDIR/qemu-mipsel" -rules "$E" -bind-wildcard loopback "$GDIR/bindtest-mipsel" $w
expect_grep "-bind-wildcard loopback: 0.0.0.0 -> 127.0.0.1" "^LISTEN .* 127\.0\.0\.1:8086 " "$TMP/wl.ss"
expect_grep "-bind-wildcard loopback: getsockname shows 0.0.0.0" "^tcp4:0.0.0.0:8086 bind=0 getsockname=0.0.0.0:8086$" "$TMP/wl.guest"
if [ $has_v6 = 1 ]; then
  expect_grep "-bind-wildcard loopback: :: -> ::1" "^LISTEN .* \[::1\]:8085 " "$TMP/wl.ss"
  expect_grep "-bind-wildcard loopback: getsockname shows ::" "^tcp6:::8085 bind=0 getsockname=:::8085$" "$TMP/wl.guest"
fi

# A privileged port as a user without CAP_NET_BIND_SERVICE: port + 8000.
run_ns "$TMP/u" setpriv --reuid 65534 --regid 65534 --clear-groups \
  "$QDIR/qemu-arm" -rules "$E" "$GDIR/bindtest-arm" tcp4:192.0.2.1:80 tcp4:127.0.0.1:81
expect_grep "non-root 192.0.2.1:80 -> 127.0.0.1:8080" "^LISTEN .* 127\.0\.0\.1:8080 " "$TMP/u.ss"
expect_grep "non-root 127.0.0.1:81 -> 127.0.0.1:8081" "^LISTEN .* 127\.0\.0\.1:8081 " "$TMP/u.ss"
expect_grep "non-root: getsockname shows port 80" "^tcp4:192.0.2.1:80 bind=0 getsockname=192.0.2.1:80$" "$TMP/u.guest"

qemu arm -rules "$E" -bind-fallback nonsense "$GDIR/bindtest-arm" > "$TMP/bad" 2>&1 < /dev/null; rc=$?
expect_grep "a bad -bind-fallback is named" "-bind-fallback 'nonsense': expected an IPv4" "$TMP/bad"
expect_eq "a bad -bind-fallback stops qemu" "$rc" 1
finish
