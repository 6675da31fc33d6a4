#!/bin/sh
# meson install script: the patched qemu binaries of BUILDDIR under names
# that do not clash with Debian's qemu-user (docs/install.md):
# qemu-ARCH -> sfemu-qemu-ARCH, qemu-ARCH-static -> sfemu-qemu-ARCH-static.
# The -stock builds (tests, benchmarks) are not installed.
set -eu
dir=$1
shift
dest="${MESON_INSTALL_DESTDIR_PREFIX:?}/bin"
mkdir -p "$dest"
for q in "$@"; do
  [ -x "$dir/$q" ] || { echo "install-qemu.sh: $dir/$q is not built" >&2; exit 1; }
  install -m 755 "$dir/$q" "$dest/sfemu-$q"
  echo "Installing $dir/$q to $dest/sfemu-$q"
done
