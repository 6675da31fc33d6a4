# sfemu-mount --init (docs/mount.md, "Boot-time preparation: --init"): a
# router-style root (/var -> /tmp/var, no /tmp, the defaults in /default/etc)
# whose rcS copies /default/etc to /tmp/etc, makes /var/run, writes and links
# files, mounts a tmpfs, and loads a module and configures an interface.
# The replay makes the files through the mount (upper layer; the firmware
# tree is unchanged), reports the insmod and ifconfig lines as skipped, and
# a second --init changes nothing.  The interpreter runs everywhere (suite
# mount, under ASan); with SFEMU_QEMU_DIR (suite qemu) the firmware's own
# Debian BusyBox runs the script under the patched qemu-arm and qemu-mipsel.
# Also: the preparation file, bad input, a root whose script is missing, an
# inittab, a symlink that points out of the root.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict

# mkroot DIR [DEBARCH]: the router root; with DEBARCH a real BusyBox in it
mkroot() {
  local r=$1 n
  mkdir -p "$r/bin" "$r/sbin" "$r/default/etc/sub" "$r/etc/init.d" "$r/lib/modules"
  if [ $# -gt 1 ]; then
    bash "$SRC/scripts/debian-packages.sh" "$2" "$r" busybox libc6 > "$TMP/deb-$2.log" 2>&1 ||
      { cat "$TMP/deb-$2.log"; return 1; }
  else
    printf '#!/bin/sh\n' > "$r/bin/busybox"
    chmod 755 "$r/bin/busybox"
  fi
  for n in sh mkdir cp ln echo cat touch mount hostname; do ln -sf busybox "$r/bin/$n"; done
  for n in insmod ifconfig; do ln -sf ../bin/busybox "$r/sbin/$n"; done
  echo "root:x:0:0:root:/root:/bin/sh" > "$r/default/etc/passwd"
  echo "127.0.0.1 localhost" > "$r/default/etc/hosts"
  echo deep > "$r/default/etc/sub/x"
  chmod 600 "$r/default/etc/sub/x"
  ln -s hosts "$r/default/etc/hosts.lnk"
  echo ko > "$r/lib/modules/wl.ko"
  ln -s /tmp/var "$r/var"
  cat > "$r/etc/init.d/rcS" <<EOF
#!/bin/sh
# router boot (a real rcS does the same and more)
RUN=/var/run
mkdir -p \$RUN
cp -a /default/etc /tmp/etc
insmod /lib/modules/wl.ko
ifconfig br0 127.0.0.2 up
echo hello > /tmp/etc/motd
echo "second line" >> /tmp/etc/motd
ln -s /tmp/etc/motd /tmp/motd.lnk
mount -t tmpfs tmpfs /tmp/ram
mount -t proc proc /proc
ln -s ../../../../../../../../$TMP/host/pwned /tmp/esc
echo escaped > /tmp/esc
EOF
  chmod 755 "$r/etc/init.d/rcS"
  printf '#!/bin/sh\nmkdir /tmp/on-mp\n' > "$r/etc/mp.sh"
}

# replayed LABEL ROOT OUTPUT: the state after one replay of rcS
replayed() {
  local l=$1 r=$2 out=$3 up=$2.sfemu
  expect_match "$l: the insmod line is reported as skipped" \
    "^init: skipped insmod /lib/modules/wl.ko \(hardware\)$" "$out"
  expect_match "$l: the ifconfig line is reported as skipped" \
    "^init: skipped ifconfig br0 127.0.0.2 up \(hardware\)$" "$out"
  expect_match "$l: the cp is reported" "^init: cp -a /default/etc /tmp/etc$" "$out"
  expect_match "$l: mount of proc skipped" \
    "^init: skipped mount -t proc proc /proc \(device or kernel filesystem\)$" "$out"
  expect_match "$l: a summary line" "^init: done: [1-9][0-9]* actions, 3 skipped, 0 failed" "$out"
  expect_eq "$l: the report file holds the same lines" "$(cat "$up/init-report.txt")" "$out"
  expect_eq "$l: /tmp/etc is a copy of /default/etc" \
    "$(cd "$r/tmp/etc" && find . ! -name motd -printf '%p %y %m %l\n' | sort)" \
    "$(cd "$r/default/etc" && find . -printf '%p %y %m %l\n' | sort)"
  expect_eq "$l: a copied file's data" "$(cat "$r/tmp/etc/sub/x")" "deep"
  check "$l: /var/run made through the dangling /var -> /tmp/var" test -d "$r/tmp/var/run"
  check "$l: ... and seen as /var/run" test -d "$r/var/run"
  expect_eq "$l: echo > and >>" "$(cat "$r/tmp/etc/motd")" "hello
second line"
  expect_eq "$l: ln -s, followed" "$(cat "$r/tmp/motd.lnk")" "hello
second line"
  expect_eq "$l: the link's own target" \
    "$(getfattr -h --only-values -n security.sfemu.symlink "$r/tmp/motd.lnk")" "/tmp/etc/motd"
  check "$l: mount -t tmpfs is an empty directory" test -d "$r/tmp/ram"
  check "$l: the files are in the upper layer" test -f "$up/tree/tmp/etc/motd" -a -d "$up/tree/tmp/var/run"
  check "$l: a link out of the root reaches nothing outside it" test ! -e "$TMP/host/pwned"
  expect_eq "$l: ... the write stayed in the root" "$(cat "$up/tree$TMP/host/pwned")" "escaped"
  expect_eq "$l: the firmware tree is unchanged" "$(manifest "$r.fw")" "$FW"
}

# once LABEL ROOT ENGINE: a fresh replay, its checks, and a second --init
once() {
  local l=$1 r=$2 e=$3 out before
  out=$("$SFEMU_MOUNT" --init --init-engine "$e" "$r")
  MOUNTS+=("$(realpath "$r")")
  expect_match "$l: the engine used" "^init: running /etc/init.d/rcS \($e engine\)$" "$out"
  replayed "$l" "$r" "$out"
  before=$(manifest "$r.sfemu/tree")
  out=$("$SFEMU_MOUNT" --init --init-engine "$e" "$r")
  expect_match "$l: a second --init does not replay again" "^init: the init scripts were replayed already" "$out"
  expect_eq "$l: ... and changes nothing" "$(manifest "$r.sfemu/tree")" "$before"
  umnt "$r"
}

mkdir -p "$TMP/host"
mkroot "$TMP/root"
# the firmware tree, seen from beside the mount (the mount covers ROOTFS)
mkdir "$TMP/root.fw"
mount --bind "$TMP/root" "$TMP/root.fw"
at_exit 'umount -l "$TMP/root.fw"'
FW=$(manifest "$TMP/root.fw")

# --------------------------------------------------------------- interpreter
once "interpret" "$TMP/root" interpret
rm -rf "$TMP/root.sfemu"
# auto without a runnable shell (here /bin/busybox is a script, or no qemu)
out=$("$SFEMU_MOUNT" --init "$TMP/root")
MOUNTS+=("$(realpath "$TMP/root")")
expect_match "auto: no ELF shell: the interpreter" "^init: running /etc/init.d/rcS \(interpret engine\)$" "$out"
replayed "auto" "$TMP/root" "$out"

# ------------------------------------------------ the preparation file
R=$TMP/rules
mkdir -p "$R/config"
cat > "$R/config/prepare.conf" <<'EOF'
# the user's own preparation
dir /var/log 0750
dir /tmp/etc
copy /default/etc /tmp/etc2
file /tmp/etc/hostname router\nsecond
symlink /tmp/etc/hostname /tmp/hn
EOF
out=$("$SFEMU_MOUNT" --init --rules "$R" "$TMP/root")
expect_match "prep: dir made" "^init: prepare: dir /var/log 0750$" "$out"
expect_eq "prep: its mode" "$(stat -c %a "$TMP/root/var/log")" "750"
expect_match "prep: an existing dir is left" "^init: prepare: dir /tmp/etc \(exists\)$" "$out"
expect_eq "prep: copy" "$(cat "$TMP/root/tmp/etc2/sub/x")" "deep"
expect_eq "prep: the copy keeps modes" "$(stat -c %a "$TMP/root/tmp/etc2/sub/x")" "600"
expect_eq "prep: file with \\n" "$(cat "$TMP/root/tmp/etc/hostname")" "router
second"
expect_eq "prep: symlink" "$(cat "$TMP/root/tmp/hn")" "router
second"
expect_match "prep: the script is not replayed again" "^init: the init scripts were replayed already" "$out"
echo "changed by the service" > "$TMP/root/tmp/etc2/passwd"
rm "$TMP/root/tmp/etc2/hosts"
before=$(manifest "$TMP/root.sfemu/tree")
out=$("$SFEMU_MOUNT" --init --rules "$R" "$TMP/root")
expect_match "prep rerun: file exists" "^init: prepare: file /tmp/etc/hostname \(exists\)$" "$out"
expect_match "prep rerun: symlink exists" "^init: prepare: symlink /tmp/hn -> /tmp/etc/hostname \(exists\)$" "$out"
expect_match "prep rerun: copy brings back only the missing file" "^init: prepare: copy /default/etc /tmp/etc2 \(1 copied, [0-9]+ kept\)$" "$out"
expect_eq "prep rerun: a file the service changed is kept" "$(cat "$TMP/root/tmp/etc2/passwd")" "changed by the service"
expect_eq "prep rerun: the missing file is back" "$(cat "$TMP/root/tmp/etc2/hosts")" "127.0.0.1 localhost"
out=$("$SFEMU_MOUNT" --init --rules "$R" "$TMP/root")
expect_eq "prep third run: every entry exists, nothing made" \
  "$(grep -c '^init: prepare: .*(exists)$' <<< "$out")" "$(grep -c '^init: prepare:' <<< "$out")"
expect_eq "prep: the firmware tree is unchanged" "$(manifest "$TMP/root.fw")" "$FW"

# ------------------------------ the interpreter: what else it understands
cat > "$TMP/root/etc/more.sh" <<'EOF'
#!/bin/sh
NAME=router
mkdir -p /tmp/cfg
cp /default/etc/pass* /default/etc/h*ts /tmp/cfg/
cat > /tmp/cfg/gen <<END
host=$NAME
END
cat > /tmp/cfg/lit <<'END'
host=$NAME
END
cat /proc/cpuinfo | grep model > /tmp/cfg/model
touch /tmp/cfg/t || echo failed
printf '%s:%s\n' a "$NAME" > /tmp/cfg/pf
cd /tmp/cfg && ln -sf gen link
tar xzf /default/www.tgz -C /tmp/www
mkdir -p /tmp/etc3
cp -a /default/etc/. /tmp/etc3/
. /etc/vars.sh
echo "$FROM_VARS" > /tmp/cfg/sourced
sh /etc/sub.sh
sh -c "mkdir /tmp/cfg/from-sh-c"
tar xf /default/evil.tar -C /tmp/evil
EOF
printf 'FROM_VARS=set-in-vars\n' > "$TMP/root/etc/vars.sh"
printf 'mkdir /tmp/cfg/from-sub\n' > "$TMP/root/etc/sub.sh"
mkdir -p "$TMP/www/sub" "$TMP/evil1" "$TMP/evil2/out"
echo page > "$TMP/www/sub/index.html"
tar czf "$TMP/root/default/www.tgz" -C "$TMP/www" sub
# an archive's link out of the root, then a file written through it
ln -s "../../../../../../../..$TMP/host" "$TMP/evil1/out"
echo x > "$TMP/evil2/out/tarred"
tar cf "$TMP/root/default/evil.tar" -C "$TMP/evil1" out -C "$TMP/evil2" out/tarred
out=$("$SFEMU_MOUNT" --init --init-engine interpret --init-script /etc/more.sh "$TMP/root")
expect_match "interpreter: an explicit --init-script runs after a replay" "^init: running /etc/more.sh" "$out"
expect_eq "interpreter: globs" "$(ls "$TMP/root/tmp/cfg" | grep -v -e gen -e lit -e pf -e link -e '^t$' -e from- -e sourced | tr '\n' ' ')" "hosts passwd "
expect_eq "interpreter: a here-document, expanded" "$(cat "$TMP/root/tmp/cfg/gen")" "host=router"
expect_eq "interpreter: a quoted here-document, verbatim" "$(cat "$TMP/root/tmp/cfg/lit")" 'host=$NAME'
expect_match "interpreter: a pipe is skipped, whole" \
  "^init: skipped cat /proc/cpuinfo \| grep model > /tmp/cfg/model \(not understood: pipe\)$" "$out"
check "interpreter: ... and makes nothing" test ! -e "$TMP/root/tmp/cfg/model"
check "interpreter: a || b: a runs" test -f "$TMP/root/tmp/cfg/t"
expect_no_match "interpreter: ... b does not run (a succeeded)" "echo failed" "$out"
expect_eq "interpreter: printf" "$(cat "$TMP/root/tmp/cfg/pf")" "a:router"
expect_eq "interpreter: cd, then a relative ln -sf" "$(cat "$TMP/root/tmp/cfg/link")" "host=router"
expect_eq "interpreter: tar xzf -C" "$(cat "$TMP/root/tmp/www/sub/index.html")" "page"
expect_eq "interpreter: . FILE shares its variables" "$(cat "$TMP/root/tmp/cfg/sourced")" "set-in-vars"
check "interpreter: sh FILE is replayed" test -d "$TMP/root/tmp/cfg/from-sub"
check "interpreter: sh -c COMMAND is replayed" test -d "$TMP/root/tmp/cfg/from-sh-c"
expect_eq "interpreter: cp -a DIR/. DIR2/ copies the content" "$(ls "$TMP/root/tmp/etc3" | tr '\n' ' ')" \
  "hosts hosts.lnk passwd sub "
check "interpreter: tar: a file through the archive's link out of the root reaches nothing" \
  test ! -e "$TMP/host/tarred"

# ------------------------------------ the interpreter's control flow
# (if/elif/else/fi, && and || decided by [ ] on the root; loops, case and
# functions skipped whole; exit): every WRONG* would be a wrong branch.
cat > "$TMP/root/etc/flow.sh" <<'EOF'
#!/bin/sh
if [ ! -d /var/nothere ]; then
  mkdir -p /tmp/fl/var/run
else
  mkdir /tmp/fl/WRONG1
fi
if [ -f /nonexistent ]; then mkdir /tmp/fl/WRONG2; elif [ -f /default/etc/passwd ]; then mkdir /tmp/fl/elif-ok; else mkdir /tmp/fl/WRONG3; fi
[ -f /default/etc/passwd ] && cp /default/etc/passwd /tmp/fl/copied
[ -f /nope ] && mkdir /tmp/fl/WRONG4
[ -d /tmp/fl/missing ] || mkdir /tmp/fl/missing
[ -d /tmp/fl/missing ] || mkdir /tmp/fl/WRONG5
X=abc
if [ "$X" = "abc" ]; then
  if [ -n "" ]; then mkdir /tmp/fl/WRONG6; fi
  echo nested > /tmp/fl/nested-ok
fi
for i in a b c; do
  mkdir /tmp/fl/WRONG-loop-$i
  while true; do mkdir /tmp/fl/WRONG7; done
done
mkdir /tmp/fl/after-loop
start() {
  mkdir /tmp/fl/WRONG8
}
case "$1" in
  start) mkdir /tmp/fl/WRONG9 ;;
esac
grep -q x /proc/cpuinfo || mkdir /tmp/fl/unknown-or
mkdir /tmp/fl/last
exit 0
mkdir /tmp/fl/WRONG10
EOF
out=$("$SFEMU_MOUNT" --init --init-engine interpret --init-script /etc/flow.sh "$TMP/root")
expect_eq "flow: the branches taken, and only those" \
  "$(cd "$TMP/root/tmp/fl" && find . -mindepth 1 | sort | tr '\n' ' ')" \
  "./after-loop ./copied ./elif-ok ./last ./missing ./nested-ok ./var ./var/run "
expect_match "flow: a loop is reported as skipped" "^init: skipped for i in a b c \(not understood: a loop" "$out"
expect_match "flow: a function is reported as skipped" "^init: skipped start\(\) \{ \(not understood" "$out"
expect_match "flow: || after a command not understood: skipped" \
  "^init: skipped mkdir /tmp/fl/unknown-or \(not understood: whether the command before \|\| failed\)$" "$out"

# ---------------------------------------------------------------- bad input
printf 'dir /ok\nsymlink /only-one\n' > "$R/config/prepare.conf"
check_fails_with "bad prep line: file:line named" "$R/config/prepare.conf:2: symlink TARGET LINK: LINK is missing" \
  "$SFEMU_MOUNT" --init --rules "$R" "$TMP/root"
check "bad prep line: nothing of the file applied" test ! -e "$TMP/root/ok"
check_fails_with "bad prep line: refused before any replay" "prepare.conf:2" \
  "$SFEMU_MOUNT" --init --rules "$R" --init-script /etc/mp.sh "$TMP/root"
check "bad prep line: ... the script did not run" test ! -e "$TMP/root/tmp/on-mp"
printf 'dir relative/x\n' > "$R/config/prepare.conf"
check_fails_with "prep: a relative path is refused" "prepare.conf:1: paths are absolute" \
  "$SFEMU_MOUNT" --init --rules "$R" "$TMP/root"
printf 'mkdir /x\n' > "$R/config/prepare.conf"
check_fails_with "prep: an unknown entry" "prepare.conf:1: unknown entry" \
  "$SFEMU_MOUNT" --init --rules "$R" "$TMP/root"
check_fails_with "unknown --init-engine value named" "--init-engine: expected 'auto', 'shell' or 'interpret', got 'bash'" \
  "$SFEMU_MOUNT" --init --init-engine bash "$TMP/root"
check_fails_with "--init-script: a missing script named" "--init-script '/etc/nope': no such file in the root" \
  "$SFEMU_MOUNT" --init --init-script /etc/nope "$TMP/root"
check_fails_with "--init-script needs --init" "need --init" "$SFEMU_MOUNT" --init-script /x "$TMP/root"
check_fails_with "--init-timeout range" "--init-timeout: '0'" "$SFEMU_MOUNT" --init --init-timeout 0 "$TMP/root"
check_fails_with "--init with -f refused" "--init goes with neither" "$SFEMU_MOUNT" --init -f "$TMP/root"
check_fails_with "--init-engine shell without a runnable shell: an error" "cannot run here" \
  "$SFEMU_MOUNT" --init --init-engine shell --qemu "$TMP/host" --init-script /etc/mp.sh "$TMP/root"
# skip.conf is the one list: a name added there is skipped by name.
SKIPTREE=$TMP/initrules
cp -r "$SRC/rules_examples/init" "$SKIPTREE"
echo "hardware: sfemu-frob" >> "$SKIPTREE/skip.conf"
printf '#!/bin/sh\nsfemu-frob --now\nmkdir -p /tmp/after-frob\n' > "$TMP/root/etc/frob.sh"
out=$(SFEMU_INIT_RULES=$SKIPTREE "$SFEMU_MOUNT" --init --init-engine interpret --init-script /etc/frob.sh "$TMP/root")
expect_match "skip.conf: a program added there is skipped as hardware" "^init: skipped sfemu-frob --now \(hardware\)$" "$out"
check "skip.conf: ... and the script goes on" test -d "$TMP/root/tmp/after-frob"
umnt "$TMP/root"

# ------------------------------- a root whose /etc is a dangling link, inittab
S=$TMP/small
mkdir -p "$S/bin" "$S/sbin"
ln -s /tmp/etc "$S/etc"
out=$("$SFEMU_MOUNT" --init --init-engine interpret "$S")
MOUNTS+=("$(realpath "$S")")
expect_match "no script (/etc -> /tmp/etc dangling): said" "^init: no init script found" "$out"
expect_match "no script: still a summary" "^init: done: 0 actions" "$out"
mkdir -p "$S/tmp/etc/init.d"  # through the mount, then the boot files
printf '::sysinit:/etc/init.d/rcS S boot\n::respawn:/sbin/getty\n' > "$S/tmp/etc/inittab"
printf '#!/bin/sh\nmkdir /tmp/from-inittab\nnvram set x=1\n' > "$S/tmp/etc/init.d/rcS"
out=$("$SFEMU_MOUNT" --init --init-engine interpret "$S")
expect_match "inittab: the sysinit command is run" "^init: running /etc/init.d/rcS S boot \(interpret engine\)$" "$out"
check "inittab: its script replayed" test -d "$S/tmp/from-inittab"
expect_match "inittab: nvram skipped" "^init: skipped nvram set x=1 \(hardware\)$" "$out"
umnt "$S"
# a separate mount point and upper directory: mounted there, reported there
mkdir -p "$TMP/mp"
out=$("$SFEMU_MOUNT" --init --init-engine interpret --init-script /etc/mp.sh \
  --upper "$TMP/up-mp" "$TMP/root" "$TMP/mp")
MOUNTS+=("$(realpath "$TMP/mp")")
check "MOUNTPOINT: --init mounted there" is_mounted "$TMP/mp"
check "MOUNTPOINT: replayed there, into --upper" test -d "$TMP/mp/tmp/on-mp" -a -d "$TMP/up-mp/tree/tmp/on-mp"
expect_grep "MOUNTPOINT: the report in --upper" "^init: mkdir /tmp/on-mp$" "$TMP/up-mp/init-report.txt"
check_fails_with "an existing mount with another upper: --upper is asked for" "give --upper DIR" \
  "$SFEMU_MOUNT" --init "$TMP/root" "$TMP/mp"
umnt "$TMP/mp"
expect_eq "MOUNTPOINT: the firmware tree is unchanged" "$(manifest "$TMP/root.fw")" "$FW"

# ------------------------- one skip list (skip.conf) for both engines
check "skip.conf names more than 50 programs" \
  test "$(grep -E '^(hardware|service):' "$SRC/rules_examples/init/skip.conf" | cut -d: -f2 | wc -w)" -gt 50
# -------------------------- the firmware's BusyBox under the patched qemu
if [ -n "$QDIR" ]; then
  for pair in armel:arm mipsel:mipsel; do
    deb=${pair%%:*} a=${pair##*:}
    r=$TMP/root-$a
    require "$a: a root with Debian BusyBox ($deb)" mkroot "$r" "$deb"
    mkdir "$r.fw"
    mount --bind "$r" "$r.fw"
    at_exit "umount -l '$r.fw'"
    FW=$(manifest "$r.fw")
    once "shell $a" "$r" shell
    expect_no_grep "shell $a: insmod and ifconfig never ran (their syscalls were not reached)" \
      "init_module|ioctl" "$r.sfemu/init-report.txt"
    # The syscall level: hostname's sethostname(2) (in a UTS namespace of
    # its own, should the rule fail), a kill of a process outside the
    # script, an applet run as "busybox insmod".
    sleep 300 &
    victim=$!
    printf '#!/bin/sh\nhostname sfemu-evil\nbusybox insmod /lib/modules/wl.ko\nkill -TERM %d\nsh -c "mkdir /tmp/from-sh-c"\n' \
      "$victim" > "$r/etc/hw.sh"
    out=$(unshare --uts sh -c 'hostname sfemu-test-host &&
      "$1" --init --init-script /etc/hw.sh "$2" && hostname' sh "$SFEMU_MOUNT" "$r")
    MOUNTS+=("$(realpath "$r")")
    expect_match "shell $a: sethostname(2) skipped" "^init: skipped sethostname\(2\) \(hardware\)$" "$out"
    expect_eq "shell $a: ... the hostname unchanged" "$(tail -n1 <<< "$out")" "sfemu-test-host"
    expect_match "shell $a: busybox APPLET skipped" \
      "^init: skipped busybox insmod /lib/modules/wl.ko \(hardware\)$" "$out"
    expect_match "shell $a: a kill outside the script skipped" \
      "^init: skipped kill -15 $victim \(outside the init script\)$" "$out"
    check "shell $a: ... the process lives" kill -0 "$victim"
    check "shell $a: sh -c runs (a shell is no service)" test -d "$r/tmp/from-sh-c"
    kill "$victim"
    umnt "$r"
  done
  # --init-timeout: a script that never ends is stopped, with its children
  r=$TMP/root-arm
  printf '#!/bin/sh\necho started\nmkdir /tmp/before-loop\nwhile :; do :; done\n' > "$r/etc/loop.sh"
  SECONDS=0
  out=$("$SFEMU_MOUNT" --init --init-script /etc/loop.sh --init-timeout 2 "$r")
  MOUNTS+=("$(realpath "$r")")
  expect_match "timeout: reported" "^init: stopped /etc/loop.sh after 2 s \(--init-timeout\)" "$out"
  expect_match "timeout: the script's output in the report" "^init: output: started$" "$out"
  check "timeout: what it did before is kept" test -d "$r/tmp/before-loop"
  check "timeout: --init returned in time" test "$SECONDS" -lt 60
  check_fails "timeout: no qemu of the script is left" pgrep -f "qemu-arm .*$r/bin/sh /etc/loop.sh"
  expect_match "timeout: the replay still ran (status 0 and a summary)" "^init: done: " "$out"
  umnt "$r"

  # c_init_rootfs from a rule: the same replay, on the guest root's mount.
  R=$TMP/lua-rules
  mkdir -p "$R/syscall"
  cat > "$R/syscall/uname.lua" <<'LUA'
function do_syscall(num)
  local status, report = c_init_rootfs({ engine = "interpret", scripts = { "/etc/lua.sh" } })
  c_log("INIT status=" .. tostring(status) .. " " .. tostring(report):gsub("\n", " | "))
end
LUA
  printf '#!/bin/sh\nmkdir -p /tmp/from-lua\ninsmod /lib/modules/x.ko\n' > "$r/etc/lua.sh"
  qemu arm -L "$r" -rules "$R" "$r/bin/busybox" uname > /dev/null 2> "$TMP/lua.log"
  expect_grep "c_init_rootfs without a mount: nil, -ENOTCONN" "INIT status=nil -107" "$TMP/lua.log"
  check "c_init_rootfs without a mount: nothing made" test ! -e "$r/tmp/from-lua"
  mnt "$r"
  qemu arm -L "$r" -rules "$R" "$r/bin/busybox" uname > /dev/null 2> "$TMP/lua.log"
  expect_grep "c_init_rootfs: status 0 and the report" \
    "INIT status=0 .*init: mkdir -p /tmp/from-lua .*init: skipped insmod /lib/modules/x.ko \(hardware\)" "$TMP/lua.log"
  check "c_init_rootfs: the directory is in the mount's upper layer" test -d "$r.sfemu/tree/tmp/from-lua"
  umnt "$r"
fi
finish
