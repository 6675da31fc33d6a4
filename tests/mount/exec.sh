# Executables on the mount run: the kernel's OPEN for execve carries
# __FMODE_EXEC, which the daemon must not hand to openat2 (it rejects unknown
# bits).  A lower file, an upper file and a file just written, with and
# without passthrough, run directly and through chroot (the design card's
# "chroot rootfs /qemu-arm-static ..." way).
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
strict
R="$TMP/rootfs"
mk_rootfs "$R"
printf '#include <stdio.h>\nint main(int c, char **v){printf("ran %%s\\n", c > 1 ? v[1] : "-");return 0;}\n' > "$TMP/hello.c"
cc -static -O2 -o "$TMP/hello" "$TMP/hello.c" || fatal "cannot build a static test program"
cp "$TMP/hello" "$R/bin/hello-lower"
cp /bin/true "$R/bin/true-lower"          # dynamic: its loader comes from the host
chown 1000:1000 "$R/bin/hello-lower" "$R/bin/true-lower"
before=$(manifest "$R")
for mode in passthrough --no-passthrough; do
    opt=(); [ "$mode" = passthrough ] || opt=("$mode")
    mnt "$R" "${opt[@]}"
    expect_eq "$mode: exec of a lower file" "$("$R/bin/hello-lower" a)" "ran a"
    "$R/bin/true-lower" || fatal "$mode: exec of a lower dynamic binary"; pass "$mode: exec of a lower dynamic binary"
    cp "$TMP/hello" "$R/bin/hello-upper"
    expect_eq "$mode: copied file is in the upper layer" "$(getfattr --absolute-names --only-values -n security.sfemu.layer "$R/bin/hello-upper")" "upper"
    expect_eq "$mode: exec of an upper file" "$("$R/bin/hello-upper" b)" "ran b"
    cat "$TMP/hello" > "$R/tmp/fresh"; chmod 755 "$R/tmp/fresh"
    expect_eq "$mode: exec of a file just written" "$("$R/tmp/fresh" c)" "ran c"
    expect_eq "$mode: chroot into the mount runs a lower file" "$(chroot "$R" /bin/hello-lower d)" "ran d"
    expect_eq "$mode: chroot runs a file just written" "$(chroot "$R" /tmp/fresh e)" "ran e"
    rm "$R/bin/hello-upper" "$R/tmp/fresh"
    umnt "$R"
done
expect_eq "firmware tree untouched" "$(manifest "$R")" "$before"
finish
