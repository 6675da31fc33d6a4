# Managed fake sockets (docs/fakefile.md "Fake sockets"): an ARM and a
# big-endian MIPS guest connect to a unix socket nobody listens on; the fd
# becomes a real socket whose peer the fakeconfig serves
# (tests/fixtures/sock.fakeconfig.lua: a greeting, "GET key" answered by
# the write handler's ctx.reply, "PUSH text" answered by the read handler,
# "BYE" for EOF).  write/read, send/recv, sendmsg/recvmsg, poll, select,
# a nonblocking recv, a forked child (and one left alone when the process
# that connected exits: EOF), SOCK_DGRAM and SOCK_SEQPACKET, and
# close (the close handler's state in the record); without a mount (the
# engine inside qemu) and with an sfemu-mount (the daemon's engine over the
# ring, the record read with cat).  The default socket fakeconfig: EOF at
# once, writes accepted.  A real listening socket is never faked, and
# default_connect_socket_server still gives a real server.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
export SFEMU_WATCHDOG=off

# talk_checks/dgram_checks LABEL OUT: what every run of "talk"/"dgram" prints
talk_checks() {
    local l=$1 o=$2
    expect_grep "$l: connect to the missing socket succeeds" "^connect /var/run/x.sock -> 0 errno=0$" "$o"
    expect_grep "$l: the greeting is read after connect" "^greeting \[HELLO sfemu\]$" "$o"
    expect_grep "$l: poll: not readable before a request" "^poll before a request: 0$" "$o"
    expect_grep "$l: a nonblocking recv gives EAGAIN" "^nonblocking recv -1 errno=11$" "$o"
    expect_grep "$l: poll: readable after a request" "^poll after a request: 1$" "$o"
    expect_grep "$l: write+read: the reply to GET" "^write\+read \[blue\]$" "$o"
    expect_grep "$l: send+recv" "^send\+recv \[sfemu-1\]$" "$o"
    expect_grep "$l: sendmsg+recvmsg (two pieces, two buffers)" "^sendmsg\+recvmsg 5 \[bl\|ue\]$" "$o"
    expect_grep "$l: select: readable once the read handler has something" "^select 1 1$" "$o"
    expect_grep "$l: the read handler's answer" "^pushed \[later\]$" "$o"
    expect_grep "$l: a forked child talks on the socket (the parent's pump serves)" "^child \[sfemu-1\]$" "$o"
    expect_grep "$l: the parent goes on after the child exits" "^after fork \[blue\]$" "$o"
    expect_grep "$l: a socket nonblocking before connect: greeting" "^nonblocking socket greeting \[HELLO sfemu\]$" "$o"
    expect_grep "$l: ... and stays nonblocking" "^nonblocking socket read -1 errno=11$" "$o"
    expect_grep "$l: read handler EOF (after BYE) reads 0" "^after BYE read 0$" "$o"
    expect_grep "$l: close" "^close 0$" "$o"
    expect_grep "$l: the close handler ran (record state=closed)" "^state closed after" "$o"
}
dgram_checks() {
    local l=$1 o=$2
    expect_grep "$l: connect" "^connect /var/run/x.sock -> 0 errno=0$" "$o"
    expect_grep "$l: the greeting is one datagram" "^greeting \[HELLO sfemu\]$" "$o"
    expect_grep "$l: poll: not readable before a request" "^poll before a request: 0$" "$o"
    expect_grep "$l: poll: readable after a request" "^poll after a request: 1$" "$o"
    expect_grep "$l: one reply per datagram, in order" "^first \[blue\]$" "$o"
    expect_grep "$l: ... the second" "^second \[sfemu-1\]$" "$o"
    expect_grep "$l: then nothing (EAGAIN)" "^nonblocking recv -1 errno=11$" "$o"
    expect_grep "$l: the close handler ran" "^state closed after" "$o"
}

for arch in arm mips; do
  R="$TMP/root-$arch"; RULES="$TMP/rules-$arch"
  mkdir -p "$R/bin" "$R/var/run" "$R/tmp"
  cp -r "$SRC/rules_examples" "$RULES"
  rm -rf "$RULES"/plugins/fakefile/config/*.lua "$RULES"/plugins/fakefile/data/* "$RULES"/cache/*
  cp "$SRC/tests/fixtures/sock.fakeconfig.lua" "$RULES/plugins/fakefile/config/x.sock.fakeconfig.lua"
  cp "$GDIR/fakesock-$arch" "$R/bin/fakesock"
  run() { timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/fakesock" "$@"; }

  run talk /var/run/x.sock > "$TMP/o" 2>&1
  talk_checks "$arch" "$TMP/o"
  expect_grep "$arch: the record is a socket's" "^type=socket$" "$R/var/run/x.sock.fakefile"
  [ ! -e "$R/var/run/x.sock" ] && pass "$arch: no socket file is created" || fail "$arch: a socket file exists"
  run dgram /var/run/x.sock > "$TMP/o" 2>&1
  dgram_checks "$arch SOCK_DGRAM" "$TMP/o"
  run dgram /var/run/x.sock seq > "$TMP/o" 2>&1
  dgram_checks "$arch SOCK_SEQPACKET" "$TMP/o"

  # the process that connected exits: its forked child reads EOF, no hang
  run orphan /var/run/x.sock > "$TMP/orphan" 2>&1
  for _ in $(seq 200); do grep -q "^orphan" "$TMP/orphan" && break; sleep 0.1; done
  expect_grep "$arch a child whose socket's pump exited with its parent reads EOF" \
    "^orphan hup=1 send -1 errno=32 read \[\]$" "$TMP/orphan"

  run plain /var/run/plain.sock > "$TMP/o" 2>&1
  expect_grep "$arch default socket config: connect works" "^connect /var/run/plain.sock -> 0 errno=0$" "$TMP/o"
  expect_grep "$arch ... readable at once (EOF)" "^poll 1$" "$TMP/o"
  expect_grep "$arch ... read gives EOF" "^read 0$" "$TMP/o"
  expect_grep "$arch ... write succeeds" "^write 4$" "$TMP/o"
  expect_grep "$arch ... and EOF stays" "^read again 0$" "$TMP/o"

  # a real server on the path: connect is real, nothing is faked
  rm -f "$R/var/run/real.sock"
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("up", flush=True)
c, _ = s.accept(); c.sendall(b"REAL\n"); c.close()' "$R/var/run/real.sock" > "$TMP/srv" &
  srv=$!
  for _ in $(seq 50); do grep -q up "$TMP/srv" && break; sleep 0.1; done
  run real /var/run/real.sock > "$TMP/o" 2>&1
  expect_grep "$arch a real listening socket is connected for real" "^real \[REAL\]$" "$TMP/o"
  [ ! -e "$R/var/run/real.sock.fakefile" ] && pass "$arch ... and not made a fake" || fail "$arch a real socket got a record"
  wait $srv

  # default_connect_socket_server: a real server the client connects to
  printf '%s\n' 'local fakefile = require("plugins.fakefile")' \
    'return { default_state = "s", states = { s = { connect = fakefile.default_connect_socket_server } } }' \
    > "$RULES/plugins/fakefile/config/srv.sock.fakeconfig.lua"
  run send /var/run/srv.sock > "$TMP/o" 2>&1
  expect_grep "$arch default_connect_socket_server: connect works" "^connect /var/run/srv.sock -> 0 errno=0$" "$TMP/o"
  expect_grep "$arch ... write reaches the real server" "^write 4$" "$TMP/o"
  expect_grep "$arch ... which the fakeconfig started" "socket server @sfemu-fake-" "$TMP/o"
done

# With an sfemu-mount: the daemon's engine serves the socket over the ring;
# one state, seen by the shell.
R="$TMP/mroot"; RULES="$TMP/mrules"
mk_rootfs "$R"
cp -a "$SRC/rules_examples" "$RULES"
rm -rf "$RULES"/cache/*
cp "$SRC/tests/fixtures/sock.fakeconfig.lua" "$RULES/plugins/fakefile/config/x.sock.fakeconfig.lua"
cp "$GDIR/fakesock-arm" "$R/bin/fakesock-arm"
cp "$GDIR/fakesock-mips" "$R/bin/fakesock-mips"
mkdir -p "$R/tmp/var/run"
export SFEMU_LOG="$TMP/qemu.log"
mnt "$R" --rules "$RULES"
for arch in arm mips; do
  run() { timeout 60 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/fakesock-$arch" "$@"; }
  run talk /var/run/x.sock > "$TMP/o" 2>&1
  talk_checks "mount $arch" "$TMP/o"
  run dgram /var/run/x.sock > "$TMP/o" 2>&1
  dgram_checks "mount $arch SOCK_DGRAM" "$TMP/o"
done
expect_grep "mount: the shell's cat shows the state the close handler set" "^state=closed$" "$R/var/run/x.sock.fakefile"
expect_no_grep "mount: the daemon served every call (no fallback)" "served inside this qemu" "$TMP/qemu.log"
expect_grep "mount: the daemon ran the handlers" "x.sock: state closed -> open" "$R.sfemu/sfemu-mount.log"
umnt "$R"
finish
