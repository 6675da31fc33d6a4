#!/usr/bin/env bash
# Copies Lua 5.4's string library (src/lstrlib.c and the lprefix.h it
# includes) from Debian trixie's lua5.4 source into the cache and prints the
# directory: run by meson at configure time, through scripts/debian-build.sh
# (fetch, cache, lock), which calls this recipe back with --build.  The
# sandbox's string library is this file with common/lstrlib-budget.patch
# (pattern matching polls the Lua budget), applied by common/meson.build.
# lstrlib.c uses Lua's public API only: it builds against Debian 12's 5.4
# headers and library.
set -euo pipefail
if [ "${1:-}" != --build ]; then
  exec bash "$(dirname "$0")/../scripts/debian-build.sh" lua5.4 lua5.4/trixie \
    'lua5.4_5.4.*.orig.tar.*' "$0"
fi
SRC=$2 ROOT=$4
cp "$SRC/src/lstrlib.c" "$SRC/src/lprefix.h" "$ROOT/"
