#!/usr/bin/env bash
# Fetches (once) the upstream tarball of a Debian source package into the
# cache, unpacks it there and prints the unpacked directory.  The deb-src
# lines come from scripts/install-deps.sh.
#
#   debian-source.sh [--debian-patches] SOURCE/SUITE TARBALL_GLOB
#   e.g. debian-source.sh qemu/trixie 'qemu_10.0.*.orig.tar.xz'
# The directory is named after the tarball: qemu_10.0.13+ds.orig.tar.xz -> qemu-10.0.13.
# With --debian-patches the patches of the Debian revision (debian/patches/
# series: security fixes) are applied too, in a directory of its own named
# after the revision: cjson_1.7.18-3.1+deb13u1 -> cjson-1.7.18-debian-3.1+deb13u1.
set -euo pipefail
PATCHED=0
if [ "${1:-}" = --debian-patches ]; then PATCHED=1; shift; fi
[ $# = 2 ] || { echo "usage: debian-source.sh [--debian-patches] SOURCE/SUITE TARBALL_GLOB" >&2; exit 2; }
SPEC=$1 GLOB=$2
PKG=${SPEC%%/*}
CACHE=${SFEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sfemu}
log() { echo "debian-source: $*" >&2; }

mkdir -p "$CACHE/src"
exec 8>"$CACHE/src/.lock"; flock 8
newest() { (cd "$CACHE/src" && ls $1 2>/dev/null | sort -V | tail -n1) || true; }
# The Debian tarball that goes with an orig tarball (same upstream version).
debian_of() { newest "${1%%.orig.tar.*}-*.debian.tar.*"; }
TARBALL=$(newest "$GLOB")
if [ -z "$TARBALL" ] || { [ $PATCHED = 1 ] && [ -z "$(debian_of "$TARBALL")" ]; }; then
  log "fetching $SPEC source (apt-get source $SPEC)"
  (cd "$CACHE/src" && apt-get source --download-only -qq "$SPEC" >&2)
  rm -f "$CACHE"/src/*.dsc "$CACHE"/src/*.asc
  [ $PATCHED = 1 ] || rm -f "$CACHE/src/${PKG}_"*.debian.tar.*
  TARBALL=$(newest "$GLOB")
  [ -n "$TARBALL" ] || { log "no '$GLOB' in the $SPEC source package"; exit 1; }
fi
# Debian repack suffixes (+ds, +dfsg) are not part of the upstream version.
NAME=$(printf '%s' "$TARBALL" | sed -E 's/\.orig\.tar\.[a-z0-9]+$//; s/\+(ds|dfsg)[0-9]*$//; s/_/-/')
DEBTAR=""
if [ $PATCHED = 1 ]; then
  DEBTAR=$(debian_of "$TARBALL")
  [ -n "$DEBTAR" ] || { log "no Debian tarball for $TARBALL in the $SPEC source package"; exit 1; }
  REV=${DEBTAR%.debian.tar.*}
  NAME="$NAME-debian-${REV##*-}"
fi
PRISTINE="$CACHE/src/$NAME"
if [ ! -f "$PRISTINE/.complete" ]; then
  rm -rf "$PRISTINE"; mkdir -p "$PRISTINE"
  tar -xf "$CACHE/src/$TARBALL" -C "$PRISTINE" --strip-components=1
  if [ -n "$DEBTAR" ]; then
    tar -xf "$CACHE/src/$DEBTAR" -C "$PRISTINE"
    # quilt's series: one patch a line, maybe with its -pN; '#' comments.
    if [ -f "$PRISTINE/debian/patches/series" ]; then
      sed 's/#.*//' "$PRISTINE/debian/patches/series" | while read -r p opt; do
        [ -n "$p" ] || continue
        patch -d "$PRISTINE" -s -N ${opt:--p1} <"$PRISTINE/debian/patches/$p" \
          || { log "Debian patch $p does not apply to $TARBALL"; exit 1; }
      done
    fi
  fi
  touch "$PRISTINE/.complete"
fi
echo "$PRISTINE"
