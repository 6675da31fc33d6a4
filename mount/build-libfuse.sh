#!/usr/bin/env bash
# Builds libfuse 3.17 (static) from Debian trixie's source into the cache and
# prints its install root (with include/fuse3 and lib/libfuse3.a): run by
# meson at configure time, through scripts/debian-build.sh (fetch, cache,
# lock), which calls this recipe back with --build.
# Debian 12 ships libfuse 3.14, which has no FUSE passthrough; 3.17 does.
# The prefix stays /usr so the library still finds Debian's setuid
# /usr/bin/fusermount3 for unprivileged mounts.
set -euo pipefail
if [ "${1:-}" != --build ]; then
  exec bash "$(dirname "$0")/../scripts/debian-build.sh" libfuse fuse3/trixie \
    'fuse3_3.17.*.orig.tar.*' "$0"
fi
SRC=$2 BUILD=$3 ROOT=$4
meson setup "$BUILD" "$SRC" --prefix=/usr --libdir=lib -Dbuildtype=release \
  -Ddefault_library=static -Db_staticpic=true \
  -Dutils=false -Dexamples=false -Dtests=false
ninja -C "$BUILD"
DESTDIR="$ROOT/destdir" meson install -C "$BUILD" --no-rebuild
mv "$ROOT/destdir/usr/include" "$ROOT/destdir/usr/lib" "$ROOT/"
rm -rf "$ROOT/destdir"
