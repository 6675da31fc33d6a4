# Executables on the mount run: the kernel's OPEN for execve carries
# __FMODE_EXEC, which the daemon must not hand to openat2 (it rejects unknown
# bits).  A lower file, an upper file and a file just written, with and
# without passthrough, run directly and through chroot (the design card's
# "chroot rootfs /qemu-arm-static ..." way).
. "$(dirname "$0")/common.sh"
R="$T/rootfs"
mk_rootfs "$R"
printf '#include <stdio.h>\nint main(int c, char **v){printf("ran %%s\\n", c > 1 ? v[1] : "-");return 0;}\n' > "$T/hello.c"
cc -static -O2 -o "$T/hello" "$T/hello.c" || fail "cannot build a static test program"
cp "$T/hello" "$R/bin/hello-lower"
cp /bin/true "$R/bin/true-lower"          # dynamic: its loader comes from the host
chown 1000:1000 "$R/bin/hello-lower" "$R/bin/true-lower"
before=$(manifest "$R")
for mode in passthrough --no-passthrough; do
    opt=(); [ "$mode" = passthrough ] || opt=("$mode")
    mnt "$R" "${opt[@]}"
    eq "$("$R/bin/hello-lower" a)" "ran a" "$mode: exec of a lower file"
    "$R/bin/true-lower" || fail "$mode: exec of a lower dynamic binary"; ok "$mode: exec of a lower dynamic binary"
    cp "$T/hello" "$R/bin/hello-upper"
    eq "$(getfattr --absolute-names --only-values -n security.sfemu.layer "$R/bin/hello-upper")" "upper" "$mode: copied file is in the upper layer"
    eq "$("$R/bin/hello-upper" b)" "ran b" "$mode: exec of an upper file"
    cat "$T/hello" > "$R/tmp/fresh"; chmod 755 "$R/tmp/fresh"
    eq "$("$R/tmp/fresh" c)" "ran c" "$mode: exec of a file just written"
    eq "$(chroot "$R" /bin/hello-lower d)" "ran d" "$mode: chroot into the mount runs a lower file"
    eq "$(chroot "$R" /tmp/fresh e)" "ran e" "$mode: chroot runs a file just written"
    rm "$R/bin/hello-upper" "$R/tmp/fresh"
    umnt "$R"
done
eq "$(manifest "$R")" "$before" "firmware tree untouched"
