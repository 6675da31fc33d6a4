# Several processes at once on a multi-threaded daemon (--threads 4): copy-up
# races, create/rename/delete, fake resources; everything ends consistent and
# the firmware tree is untouched.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"; RULES="$TMP/rules"
mk_rootfs "$R"; mk_rules "$RULES"
for i in $(seq 20); do echo "fw $i" > "$R/www/f$i"; done
chown -R 1000:1000 "$R/www"
before=$(manifest "$R")
mnt "$R" --threads 4 --rules "$RULES"
echo "type=text" > "$R/tmp/fake.fakefile"
worker() ( # in the background: its own set -e
    set -e
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
)
pids=()
for w in 1 2 3 4; do worker $w & pids+=($!); done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
expect_eq "4 parallel workers finished" "$failed failed" "0 failed"
bad=
for i in $(seq 20); do
    n=$(grep -c "^w[1-4] $i$" "$R/www/f$i" || true)
    [ "$n" = 4 ] || bad+=" f$i has $n of 4 appended lines: $(cat "$R/www/f$i");"
    head -1 "$R/www/f$i" | grep -qx "fw $i" || bad+=" f$i lost its firmware content;"
done
expect_eq "concurrent appends after copy-up all kept" "$bad" ""
expect_eq "odd-numbered renamed files remain (4 x 10)" "$(ls "$R/tmp" | grep -c '\.done$')" "40"
umnt "$R"
expect_eq "firmware tree untouched" "$(manifest "$R")" "$before"
finish
