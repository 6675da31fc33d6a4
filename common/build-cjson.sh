#!/usr/bin/env bash
# Builds cJSON (static, position-independent) from Debian trixie's source
# with Debian's patches into the cache and prints its install root
# (include/cjson/cJSON.h, lib/cJSON.o, lib/libcjson.a): run by meson at
# configure time, through scripts/debian-build.sh (fetch, cache, lock), which
# calls this recipe back with --build.  Debian 12's libcjson-dev ships only a
# shared library, and the runtime is linked into static qemu binaries too.
# One file, built with Debian's own hardening flags (dpkg-buildflags).
set -euo pipefail
if [ "${1:-}" != --build ]; then
  exec bash "$(dirname "$0")/../scripts/debian-build.sh" cjson cjson/trixie \
    'cjson_1.7.*.orig.tar.*' "$0" --debian-patches
fi
SRC=$2 BUILD=$3 ROOT=$4
CFLAGS="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS)"
# shellcheck disable=SC2086
cc $CFLAGS -std=c89 -fPIC -c "$SRC/cJSON.c" -o "$BUILD/cJSON.o"
mkdir -p "$ROOT/include/cjson" "$ROOT/lib"
cp "$SRC/cJSON.h" "$ROOT/include/cjson/"
cp "$BUILD/cJSON.o" "$ROOT/lib/"
ar rcs "$ROOT/lib/libcjson.a" "$BUILD/cJSON.o"
