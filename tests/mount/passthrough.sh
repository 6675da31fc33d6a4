# FUSE passthrough: once a real file is open, the kernel reads and writes the
# backing file itself (no READ reaches the daemon, reads go on while the
# daemon is stopped); one backing file per inode across opens, renames,
# unlinks and copy-up; --no-passthrough and an unprivileged daemon fall back
# to the page cache.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"
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
    local log=$1 i
    shift
    "$SFEMU_MOUNT" -d "$@" "$R" 2>"$log" &
    MOUNTS+=("$(realpath "$R")")
    for i in $(seq 100); do is_mounted "$R" && return 0; sleep 0.1; done
    echo "the debug mount did not come up:"
    tail -5 "$log"
    return 1
}
reads() { grep -c "opcode: READ (15)" "$1" || true; }

sha=$(sha256sum < "$R/usr/lib/libbig.so")
require "debug mount (passthrough)" mnt_debug "$TMP/d1"
expect_eq "read through the mount" "$(sha256sum < "$R/usr/lib/libbig.so")" "$sha"
expect_grep "passthrough on as root" "passthrough on" "$TMP/d1"
expect_eq "a 300 KB read sends no READ to the daemon" "$(reads "$TMP/d1")" "0"

# Reads of an open file need no daemon at all: stop it and read.
exec 3<"$R/usr/lib/libbig.so"
pid=$(pgrep -f -n "^$SFEMU_MOUNT -d" || true)
require "the debug daemon's pid" test -n "$pid"
kill -STOP "$pid"
at_exit 'kill -CONT $pid 2>/dev/null'   # should the script end while it is stopped
dd bs=64k <&3 of="$TMP/copy" 2>/dev/null &
reader=$!
done_in_time=0
for i in $(seq 50); do kill -0 "$reader" 2>/dev/null || { done_in_time=1; break; }; sleep 0.1; done
kill -CONT "$pid"
wait "$reader"
exec 3<&-
check "a read of an open file does not wait for the stopped daemon" test $done_in_time = 1
expect_eq "read with the daemon stopped" "$(sha256sum < "$TMP/copy")" "$sha"

# Writes go to the upper tree through the backing file.
printf 'new data\n' > "$R/tmp/fresh"
printf 'more\n' >> "$R/tmp/fresh"
expect_eq "write, append, read back" "$(cat "$R/tmp/fresh")" "$(printf 'new data\nmore')"
expect_eq "size after passthrough writes" "$(stat -c %s "$R/tmp/fresh")" "14"
expect_eq "written to the upper tree" "$(cat "$TMP/rootfs.sfemu/tree/tmp/fresh")" "$(printf 'new data\nmore')"

# Small files opened read-only use the page cache: one READ, then none.
n0=$(reads "$TMP/d1")
expect_eq "small file read" "$(cat "$R/www/index.html")" "<html>fw</html>"
n1=$(reads "$TMP/d1")
expect_eq "small file read again" "$(cat "$R/www/index.html")" "<html>fw</html>"
n2=$(reads "$TMP/d1")
if [ "$n1" -gt "$n0" ] && [ "$n2" = "$n1" ]; then
    pass "small read-only file: one READ, then the page cache"
else
    fail "small read-only file: one READ, then the page cache (READs $n0 -> $n1 -> $n2)"
fi
# ... and a passthrough write in between is not hidden by stale pages.
echo "<html>v2</html>" > "$R/www/index.html"
expect_eq "small file after a passthrough write" "$(cat "$R/www/index.html")" "<html>v2</html>"
echo "<html>version three</html>" >> "$R/www/index.html"
expect_eq "small file after an append" "$(cat "$R/www/index.html")" "$(printf '<html>v2</html>\n<html>version three</html>')"

# Two opens of one inode share its backing file.
sha_fw=$(big fw | sha256sum)
exec 4<"$R/www/fw.bin" 5<"$R/www/fw.bin"
expect_eq "two opens of one file" "$(sha256sum <&4)$(sha256sum <&5)" "$sha_fw$sha_fw"
exec 4<&- 5<&-

# A firmware file open in passthrough mode cannot change its backing file:
# writing it is refused with ETXTBSY (like a running executable) until the
# last reader closes; then the copy-up happens as usual.
exec 4<"$R/www/fw.bin"
check_fails_with "write while the firmware file is open: ETXTBSY" "Text file busy" \
    sh -c "echo changed > '$R/www/fw.bin'"
check_fails_with "truncate while open: ETXTBSY" "Text file busy" truncate -s 0 "$R/www/fw.bin"
expect_eq "readers unaffected" "$(sha256sum < "$R/www/fw.bin")" "$sha_fw"
expect_eq "the open reader reads on" "$(sha256sum <&4)" "$sha_fw"
exec 4<&-
check "write after the reader closed" sh -c 'echo changed > "$1"' sh "$R/www/fw.bin"
expect_eq "write after the last reader closed" "$(cat "$R/www/fw.bin")" "changed"
expect_grep "refusal logged with the path" "www/fw.bin is open from the firmware tree" "$TMP/d1"

# Rename and unlink while open.
echo one > "$R/tmp/a"
exec 4<"$R/tmp/a"
mv "$R/tmp/a" "$R/tmp/b"
expect_eq "open after rename while open" "$(cat "$R/tmp/b")" "one"
expect_eq "old fd after rename" "$(cat <&4)" "one"
exec 4<&-
exec 4<"$R/tmp/b"
rm "$R/tmp/b"
echo two > "$R/tmp/b"
expect_eq "recreated after unlink while open" "$(cat "$R/tmp/b")" "two"
exec 4<&-
# A firmware file renamed while open is copied up; the new name's inode is
# still passed through to the firmware's copy: reads share it, writes wait.
exec 4<"$R/www/cgi/big.cgi"
mv "$R/www/cgi/big.cgi" "$R/www/cgi/b.cgi"
expect_eq "renamed firmware file while open" "$(head -1 "$R/www/cgi/b.cgi")" "cgi"
check_fails "write to the renamed file while open" sh -c "echo y >> '$R/www/cgi/b.cgi'"
exec 4<&-
echo y >> "$R/www/cgi/b.cgi"
expect_eq "write after close" "$(tail -c 3 "$R/www/cgi/b.cgi")" "xy"

# Closed files keep their registration (at most 256, least recently used
# dropped first): 300 files read twice, then one replaced after its close.
want=$(for i in $(seq 300); do echo "m$i"; done)
expect_eq "300 files through the registration cache" "$(for i in $(seq 300); do cat "$R/many/f$i"; done)" "$want"
expect_eq "300 files again" "$(for i in $(seq 300); do cat "$R/many/f$i"; done)" "$want"
echo changed > "$R/many/f300"
expect_eq "closed firmware file copied up and reread" "$(cat "$R/many/f300")" "changed"
rm "$R/many/f299"
echo new > "$R/many/f299"
expect_eq "closed file unlinked and recreated" "$(cat "$R/many/f299")" "new"
mv "$R/many/f298" "$R/many/g298"
expect_eq "closed file renamed" "$(cat "$R/many/g298")" "m298"

# mmap (how qemu-user loads a guest) of a passed-through file.
mm() { python3 -c "import hashlib,mmap,sys; f=open(sys.argv[1],'rb'); m=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ); print(hashlib.sha256(m).hexdigest())" "$1"; }
expect_eq "mmap of a passed-through file" "$(mm "$R/usr/lib/libbig.so")  -" "$sha"
expect_eq "mmap of a page-cached file" "$(mm "$R/www/index.html")  -" "$(sha256sum < "$R/www/index.html")"
umnt "$R"
wait_daemons   # the foreground debug daemon exits after the unmount
expect_eq "firmware tree byte-identical" "$(manifest "$R")" "$LOWER_BEFORE"

# Close, then write at once, with several worker threads: the RELEASE may
# reach the daemon after the OPEN for writing; the write still succeeds.
mnt "$R" --threads 4
for i in $(seq 100); do
    cat "$R/race/f$i" >/dev/null
    echo "w$i" > "$R/race/f$i" || fail "write right after close (f$i)"
done
expect_eq "100 close-then-write copy-ups with 4 threads" "$(cat "$R/race/f1" "$R/race/f100" | tr '\n' ' ')" "w1 w100 "
umnt "$R"

# --no-passthrough: the daemon serves reads (page cache).
require "debug mount (--no-passthrough)" mnt_debug "$TMP/d2" --no-passthrough
expect_eq "read without passthrough" "$(sha256sum < "$R/usr/lib/libbig.so")" "$sha"
expect_grep "--no-passthrough: said in the log" "passthrough off \(--no-passthrough\)" "$TMP/d2"
check "--no-passthrough: reads go through the daemon" test "$(reads "$TMP/d2")" -gt 0
umnt "$R"
wait_daemons   # the foreground debug daemon exits after the unmount

# A daemon without CAP_SYS_ADMIN in the initial namespace (a rootless
# container: root in a user namespace) cannot register backing files: it
# says so once and serves every file through the page cache.
U="$TMP/user"
mkdir -p "$U"
cp -a "$R" "$U/rootfs"
out=$(timeout 60 unshare --user --map-root-user --mount bash -c '
    set -e
    "$1" "$2"
    sha256sum < "$2/usr/lib/libbig.so"
    echo w > "$2/tmp/w"; cat "$2/tmp/w"
    "$1" -u "$2"' sh "$SFEMU_MOUNT" "$U/rootfs" 2>&1) || fail "mount in a user namespace: $out"
expect_eq "read and write in a user namespace" "$out" "$sha
w"
L="$U/rootfs.sfemu/sfemu-mount.log"
expect_grep "user namespace: the fallback is said" \
    "passthrough off \(registering a backing file: Operation not permitted; needs CAP_SYS_ADMIN\)" "$L"
expect_eq "fallback said once" "$(grep -c 'passthrough off' "$L")" "1"
finish
