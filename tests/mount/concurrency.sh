# Several processes at once on a multi-threaded daemon (--threads 4): copy-up
# races, create/rename/delete, fake resources; everything ends consistent and
# the firmware tree is untouched.
. "$(dirname "$0")/common.sh"
R="$T/rootfs"; RULES="$T/rules"
mk_rootfs "$R"; mk_rules "$RULES"
for i in $(seq 20); do echo "fw $i" > "$R/www/f$i"; done
chown -R 1000:1000 "$R/www"
before=$(manifest "$R")
mnt "$R" --threads 4 --rules "$RULES"
echo "type=text" > "$R/tmp/fake.fakefile"
worker() {
    local w=$1 i
    for i in $(seq 20); do
        echo "w$w $i" >> "$R/www/f$i"                      # concurrent copy-up of the same files
        echo "$w-$i" > "$R/tmp/w$w.$i"
        mv "$R/tmp/w$w.$i" "$R/tmp/w$w.$i.done"
        [ "$(cat "$R/tmp/w$w.$i.done")" = "$w-$i" ] || { echo "worker $w: bad content"; return 1; }
        cat "$R/tmp/fake" > /dev/null
        [ $((i % 2)) = 0 ] && rm "$R/tmp/w$w.$i.done"
    done
    return 0
}
pids=()
for w in 1 2 3 4; do worker $w & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a worker failed"; done
ok "4 parallel workers finished"
for i in $(seq 20); do
    n=$(grep -c "^w[1-4] $i$" "$R/www/f$i")
    [ "$n" = 4 ] || fail "f$i has $n of 4 appended lines: $(cat "$R/www/f$i")"
    head -1 "$R/www/f$i" | grep -qx "fw $i" || fail "f$i lost its firmware content"
done
ok "concurrent appends after copy-up all kept"
eq "$(ls "$R/tmp" | grep -c '\.done$')" "40" "odd-numbered renamed files remain (4 x 10)"
umnt "$R"
eq "$(manifest "$R")" "$before" "firmware tree untouched"
