# Metadata that is never lost: on a full upper (a 1 MiB tmpfs) a remount
# keeps every owner, mode and device record, and a chown/chmod/mknod either
# fails with ENOSPC or survives the next remount; a second daemon on the same
# upper is refused; a daemon killed while writing loses nothing it reported
# done; long escaped paths round-trip.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"
mk_rootfs "$R"
UPFS="$TMP/upfs"; mkdir -p "$UPFS"
mount -t tmpfs -o size=1m tmpfs "$UPFS"
at_exit 'umount -l "$UPFS" 2>/dev/null' 
U="$UPFS/up"
m() { mnt "$R" --upper "$U" --log "$TMP/log" "$@"; }

m
chown 11:12 "$R/www/index.html"
chmod 640 "$R/www/index.html"
mknod "$R/dev/mtd0" c 90 3
mkdir "$R/data"; chown 21:22 "$R/data"
# names with spaces escape to three bytes each: a 1,400-byte path
long="$R/data"
for i in $(seq 13); do long="$long/name with spaces number $i and some more words $(printf '%070d' $i)"; done
mkdir -p "$long"
echo deep > "$long/f"; chown 31:32 "$long/f"
expect_eq "a path longer than 1,400 bytes" "$(( $(printf '%s' "${long#$R/}/f" | wc -c) > 1400 ))" "1"
umnt "$R"
m
expect_eq "long escaped path round-trips" "$(stat -c %u:%g:%a "$long/f")" "31:32:644"
umnt "$R"

# Fill the upper completely, then remount: compaction cannot write its new
# journal, so the old one must stay.
m
dd if=/dev/zero of="$R/tmp/fill" bs=64k 2>/dev/null && fatal "1 MiB upper never filled"
pass "upper full"
journal_before=$(sha256sum < "$U/meta.db")
umnt "$R"
m
grep -q "compaction failed" "$TMP/log" || fatal "compaction on a full upper not reported: $(tail -3 "$TMP/log")"
pass "compaction on a full upper reported"
expect_eq "owner and mode kept across a remount on a full upper" "$(stat -c %u:%g:%a "$R/www/index.html")" "11:12:640"
expect_eq "directory owner kept" "$(stat -c %u:%g "$R/data")" "21:22"
expect_eq "device record kept" "$(stat -c %t:%T "$R/dev/mtd0")" "5a:3"
expect_eq "long path kept" "$(stat -c %u:%g "$long/f")" "31:32"
expect_eq "journal unchanged by the failed compaction" "$(sha256sum < "$U/meta.db")" "$journal_before"

# chown/chmod/mknod while full: each either fails with ENOSPC or survives.
# fill_journal CMD...: run "CMD i" for i = 1.. until it fails; the last i
# that worked is printed.
fill_journal() {
    local i out last=0
    for i in $(seq 400); do
        if out=$("$@" "$i" 2>&1); then
            last=$i
        else
            echo "$out" | grep -q "No space left" || fatal "$1 failed with something else: $out"
            echo "$last"; return 0
        fi
    done
    fatal "400 times '$*' on a full upper all succeeded: the journal never filled"
}
do_chown() { chown "$1:$(($1 + 1))" "$R/www/index.html"; }
do_chmod() { chmod "$(printf '%o' $((0400 + $1 % 64)))" "$R/www/key.pem"; }
last=$(fill_journal do_chown); pass "chown on a full upper: ENOSPC after $last recorded changes"
lastm=$(fill_journal do_chmod); pass "chmod on a full upper: ENOSPC after $lastm recorded changes"
if mknod "$R/dev/mtd9" c 90 9 2>/dev/null; then mtd9=yes; else mtd9=no
    [ ! -e "$R/dev/mtd9" ] || fatal "refused mknod left a node"; fi
pass "mknod on a full upper: $mtd9"
umnt "$R"
m
expect_eq "the last chown that succeeded survives the remount" "$(stat -c %u:%g "$R/www/index.html")" "$last:$((last + 1))"
want=600; [ "$lastm" = 0 ] || want=$(printf '%o' $((0400 + lastm % 64)))
expect_eq "the last chmod that succeeded (if any) survives the remount" "$(stat -c %a "$R/www/key.pem")" "$want"
if [ $mtd9 = yes ]; then expect_eq "mknod that succeeded survives" "$(stat -c %t:%T "$R/dev/mtd9")" "5a:9"
else [ ! -e "$R/dev/mtd9" ] || fatal "refused mknod appeared after the remount"; pass "refused mknod stays refused"; fi
rm -f "$R/tmp/fill"
umnt "$R"
m
expect_eq "space back: compacted, still there" "$(stat -c %u:%g "$R/www/index.html")" "$last:$((last + 1))"

# One daemon per upper directory, whatever the mount point.
mkdir -p "$TMP/other"
j=$(sha256sum < "$U/meta.db")
out=$("$SFEMU_MOUNT" --upper "$U" "$R" "$TMP/other" 2>&1) && { MOUNTS+=("$TMP/other"); fatal "second daemon on the same upper accepted"; }
echo "$out" | grep -q "in use by another sfemu-mount (pid [0-9]" || fatal "unclear refusal: $out"
pass "second daemon on the same upper refused: $out"
is_mounted "$TMP/other" && fatal "mounted anyway"
expect_eq "journal untouched by the refused daemon" "$(sha256sum < "$U/meta.db")" "$j"
expect_eq "first mount still serves" "$(stat -c %u:%g "$R/www/index.html")" "$last:$((last + 1))"
umnt "$R"

# kill -9 while a writer changes owners and modes: what was reported done
# is there after the remount.
mnt "$R" --upper "$U" --log "$TMP/log"
pid=$(sed -n 's/.*daemon pid \([0-9]*\) .*/\1/p' "$TMP/log" | tail -1)
( for i in $(seq 1000); do
      touch "$R/tmp/k$i" && chown "$i:7" "$R/tmp/k$i" && chmod 604 "$R/tmp/k$i" && echo "$i" >> "$TMP/kdone" || break
  done ) 2>/dev/null &
writer=$!
sleep 1
kill -9 "$pid"
wait "$writer" || true
n=$(wc -l < "$TMP/kdone")
[ "$n" -gt 5 ] || fatal "the writer did too little before the kill ($n)"
out=$("$SFEMU_MOUNT" --upper "$U" --log "$TMP/log" "$R" 2>&1)
echo "$out" | grep -q stale || fatal "no stale mount after kill -9: $out"
bad=0
while read -r i; do
    [ "$(stat -c %u:%g:%a "$R/tmp/k$i")" = "$i:7:604" ] || { bad=$i; break; }
done < "$TMP/kdone"
[ $bad = 0 ] || fatal "k$bad lost its owner or mode: $(stat -c %u:%g:%a "$R/tmp/k$bad")"
pass "kill -9 during writes: all $n reported changes kept"
umnt "$R"
finish
