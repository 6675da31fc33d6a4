# FUSE passthrough: once a real file is open, the kernel reads and writes the
# backing file itself (no READ reaches the daemon, reads go on while the
# daemon is stopped); one backing file per inode across opens, renames,
# unlinks and copy-up; --no-passthrough and an unprivileged daemon fall back
# to the page cache.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"
mk_rootfs "$R"
mkdir "$R/race" "$R/many"
for i in $(seq 100); do echo "$i" > "$R/race/f$i"; done
for i in $(seq 300); do echo "m$i" > "$R/many/f$i"; done
# files of 100 KB (passed through; smaller read-only files are page-cached)
big() { printf '%s\n' "$1"; head -c 100000 /dev/zero | tr '\0' x; }
big fw > "$R/www/fw.bin"
big cgi > "$R/www/cgi/big.cgi"
LOWER_BEFORE=$(manifest "$R")

# Foreground with libfuse's debug output, to see which requests arrive.
mnt_debug() { # mnt_debug LOGFILE [options...]
    local log=$1; shift
    "$SFEMU_MOUNT" -d "$@" "$R" 2>"$log" &
    MOUNTS+=("$(realpath "$R")")
    for i in $(seq 100); do is_mounted "$R" && return 0; sleep 0.1; done
    fail "debug mount did not come up: $(tail -5 "$log")"
}
reads() { grep -c "opcode: READ (15)" "$1" || true; }

sha=$(sha256sum < "$R/usr/lib/libbig.so")
mnt_debug "$T/d1"
eq "$(sha256sum < "$R/usr/lib/libbig.so")" "$sha" "read through the mount"
grep -q "passthrough on" "$T/d1" || fail "passthrough not on: $(grep passthrough "$T/d1")"; ok "passthrough on as root"
eq "$(reads "$T/d1")" "0" "a 300 KB read sends no READ to the daemon"

# Reads of an open file need no daemon at all: stop it and read.
exec 3<"$R/usr/lib/libbig.so"
pid=$(pgrep -f -n "^$SFEMU_MOUNT -d") || fail "no daemon"
kill -STOP "$pid"
# (cleanup takes the script's status from \$?: keep it past the kill)
trap 'rc=$?; kill -CONT $pid 2>/dev/null; (exit $rc); cleanup' EXIT
dd bs=64k <&3 of="$T/copy" 2>/dev/null &
reader=$!
done_in_time=0
for i in $(seq 50); do kill -0 "$reader" 2>/dev/null || { done_in_time=1; break; }; sleep 0.1; done
kill -CONT "$pid"
wait "$reader"
exec 3<&-
[ $done_in_time = 1 ] || fail "a read of an open file waited for the stopped daemon"
eq "$(sha256sum < "$T/copy")" "$sha" "read with the daemon stopped"

# Writes go to the upper tree through the backing file.
printf 'new data\n' > "$R/tmp/fresh"
printf 'more\n' >> "$R/tmp/fresh"
eq "$(cat "$R/tmp/fresh")" "$(printf 'new data\nmore')" "write, append, read back"
eq "$(stat -c %s "$R/tmp/fresh")" "14" "size after passthrough writes"
eq "$(cat "$T/rootfs.sfemu/tree/tmp/fresh")" "$(printf 'new data\nmore')" "written to the upper tree"

# Small files opened read-only use the page cache: one READ, then none.
n0=$(reads "$T/d1")
eq "$(cat "$R/www/index.html")" "<html>fw</html>" "small file read"
n1=$(reads "$T/d1")
eq "$(cat "$R/www/index.html")" "<html>fw</html>" "small file read again"
n2=$(reads "$T/d1")
[ "$n1" -gt "$n0" ] && [ "$n2" = "$n1" ] || fail "small file: READs $n0 -> $n1 -> $n2"
ok "small read-only file: one READ, then the page cache"
# ... and a passthrough write in between is not hidden by stale pages.
echo "<html>v2</html>" > "$R/www/index.html"
eq "$(cat "$R/www/index.html")" "<html>v2</html>" "small file after a passthrough write"
echo "<html>version three</html>" >> "$R/www/index.html"
eq "$(cat "$R/www/index.html")" "$(printf '<html>v2</html>\n<html>version three</html>')" "small file after an append"

# Two opens of one inode share its backing file.
sha_fw=$(big fw | sha256sum)
exec 4<"$R/www/fw.bin" 5<"$R/www/fw.bin"
eq "$(sha256sum <&4)$(sha256sum <&5)" "$sha_fw$sha_fw" "two opens of one file"
exec 4<&- 5<&-

# A firmware file open in passthrough mode cannot change its backing file:
# writing it is refused with ETXTBSY (like a running executable) until the
# last reader closes; then the copy-up happens as usual.
exec 4<"$R/www/fw.bin"
out=$(sh -c "echo changed > '$R/www/fw.bin'" 2>&1) && fail "write while open succeeded"
echo "$out" | grep -q "Text file busy" || fail "expected ETXTBSY, got: $out"; ok "write while the firmware file is open: ETXTBSY"
out=$(truncate -s 0 "$R/www/fw.bin" 2>&1) && fail "truncate while open succeeded"
echo "$out" | grep -q "Text file busy" || fail "expected ETXTBSY, got: $out"; ok "truncate while open: ETXTBSY"
eq "$(sha256sum < "$R/www/fw.bin")" "$sha_fw" "readers unaffected"
eq "$(sha256sum <&4)" "$sha_fw" "the open reader reads on"
exec 4<&-
echo changed > "$R/www/fw.bin" || fail "write after the reader closed"
eq "$(cat "$R/www/fw.bin")" "changed" "write after the last reader closed"
grep -q "www/fw.bin is open from the firmware tree" "$T/d1" || fail "the refusal is not logged"; ok "refusal logged with the path"

# Rename and unlink while open.
echo one > "$R/tmp/a"
exec 4<"$R/tmp/a"
mv "$R/tmp/a" "$R/tmp/b"
eq "$(cat "$R/tmp/b")" "one" "open after rename while open"
eq "$(cat <&4)" "one" "old fd after rename"
exec 4<&-
exec 4<"$R/tmp/b"
rm "$R/tmp/b"
echo two > "$R/tmp/b"
eq "$(cat "$R/tmp/b")" "two" "recreated after unlink while open"
exec 4<&-
# A firmware file renamed while open is copied up; the new name's inode is
# still passed through to the firmware's copy: reads share it, writes wait.
exec 4<"$R/www/cgi/big.cgi"
mv "$R/www/cgi/big.cgi" "$R/www/cgi/b.cgi"
eq "$(head -1 "$R/www/cgi/b.cgi")" "cgi" "renamed firmware file while open"
must_fail "write to the renamed file while open" sh -c "echo y >> '$R/www/cgi/b.cgi'"
exec 4<&-
echo y >> "$R/www/cgi/b.cgi"
eq "$(tail -c 3 "$R/www/cgi/b.cgi")" "xy" "write after close"

# Closed files keep their registration (at most 256, least recently used
# dropped first): 300 files read twice, then one replaced after its close.
want=$(for i in $(seq 300); do echo "m$i"; done)
eq "$(for i in $(seq 300); do cat "$R/many/f$i"; done)" "$want" "300 files through the registration cache"
eq "$(for i in $(seq 300); do cat "$R/many/f$i"; done)" "$want" "300 files again"
echo changed > "$R/many/f300"
eq "$(cat "$R/many/f300")" "changed" "closed firmware file copied up and reread"
rm "$R/many/f299"
echo new > "$R/many/f299"
eq "$(cat "$R/many/f299")" "new" "closed file unlinked and recreated"
mv "$R/many/f298" "$R/many/g298"
eq "$(cat "$R/many/g298")" "m298" "closed file renamed"

# mmap (how qemu-user loads a guest) of a passed-through file.
mm() { python3 -c "import hashlib,mmap,sys; f=open(sys.argv[1],'rb'); m=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ); print(hashlib.sha256(m).hexdigest())" "$1"; }
eq "$(mm "$R/usr/lib/libbig.so")  -" "$sha" "mmap of a passed-through file"
eq "$(mm "$R/www/index.html")  -" "$(sha256sum < "$R/www/index.html")" "mmap of a page-cached file"
umnt "$R"
wait_daemons   # the foreground debug daemon exits after the unmount
trap cleanup EXIT
eq "$(manifest "$R")" "$LOWER_BEFORE" "firmware tree byte-identical"

# Close, then write at once, with several worker threads: the RELEASE may
# reach the daemon after the OPEN for writing; the write still succeeds.
mnt "$R" --threads 4
for i in $(seq 100); do
    cat "$R/race/f$i" >/dev/null
    echo "w$i" > "$R/race/f$i" || fail "write right after close (f$i)"
done
eq "$(cat "$R/race/f1" "$R/race/f100" | tr '\n' ' ')" "w1 w100 " "100 close-then-write copy-ups with 4 threads"
umnt "$R"

# --no-passthrough: the daemon serves reads (page cache).
mnt_debug "$T/d2" --no-passthrough
eq "$(sha256sum < "$R/usr/lib/libbig.so")" "$sha" "read without passthrough"
grep -q "passthrough off (--no-passthrough)" "$T/d2" || fail "no 'off' in the log"
[ "$(reads "$T/d2")" -gt 0 ] || fail "no READ reached the daemon without passthrough"
ok "--no-passthrough: reads go through the daemon"
umnt "$R"
wait_daemons   # the foreground debug daemon exits after the unmount

# A daemon without CAP_SYS_ADMIN in the initial namespace (a rootless
# container: root in a user namespace) cannot register backing files: it
# says so once and serves every file through the page cache.
U="$T/user"
mkdir -p "$U"
cp -a "$R" "$U/rootfs"
out=$(timeout 60 unshare --user --map-root-user --mount bash -c '
    set -e
    "$1" "$2"
    sha256sum < "$2/usr/lib/libbig.so"
    echo w > "$2/tmp/w"; cat "$2/tmp/w"
    "$1" -u "$2"' sh "$SFEMU_MOUNT" "$U/rootfs" 2>&1) || fail "mount in a user namespace: $out"
eq "$out" "$sha
w" "read and write in a user namespace"
L="$U/rootfs.sfemu/sfemu-mount.log"
grep -q "passthrough off (registering a backing file: Operation not permitted; needs CAP_SYS_ADMIN)" "$L" \
    || fail "no fallback message: $(grep passthrough "$L")"
eq "$(grep -c 'passthrough off' "$L")" "1" "fallback said once"
