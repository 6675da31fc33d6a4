#!/usr/bin/env bash
# Builds libfuse 3.17 (static) from Debian trixie's source into the cache and
# prints its install root (with include/fuse3 and lib/libfuse3.a).
# Debian 12 ships libfuse 3.14, which has no FUSE passthrough; 3.17 does.
# The prefix stays /usr so the library still finds Debian's setuid
# /usr/bin/fusermount3 for unprivileged mounts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SFEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sfemu}
log() { echo "build-libfuse: $*" >&2; }

SRC=$(bash "$HERE/../scripts/debian-source.sh" fuse3/trixie 'fuse3_3.17.*.orig.tar.*')
VERSION=${SRC##*/fuse3-}
CONFIG_REV=1   # bump when the options below change
KEY=$(printf '%s %s' "$VERSION" "$CONFIG_REV" | sha256sum | cut -c1-16)
DIR="$CACHE/build/libfuse-$VERSION-$KEY"
ROOT="$DIR/root/usr"
mkdir -p "$DIR"
exec 9>"$DIR/.lock"; flock 9
if [ ! -f "$DIR/.complete" ]; then
  log "building libfuse $VERSION (static) in $DIR"
  rm -rf "$DIR/build" "$DIR/root"
  meson setup "$DIR/build" "$SRC" --prefix=/usr --libdir=lib -Dbuildtype=release \
    -Ddefault_library=static -Db_staticpic=true \
    -Dutils=false -Dexamples=false -Dtests=false >"$DIR/setup.log" 2>&1 \
    || { log "meson setup failed, see $DIR/setup.log"; tail -n 20 "$DIR/setup.log" >&2; exit 1; }
  ninja -C "$DIR/build" >"$DIR/build.log" 2>&1 \
    || { log "build failed, see $DIR/build.log"; tail -n 20 "$DIR/build.log" >&2; exit 1; }
  DESTDIR="$DIR/root" meson install -C "$DIR/build" --no-rebuild >>"$DIR/build.log" 2>&1
  touch "$DIR/.complete"
fi
echo "$ROOT"
