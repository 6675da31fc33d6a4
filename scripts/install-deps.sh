#!/usr/bin/env bash
# Installs everything SFEmu needs on Debian 12 (bookworm): build tools, libraries,
# cross compilers for test guests, and the apt entries for QEMU 10.0's source
# (deb-src trixie) and meson >= 1.5 (bookworm-backports). The entries are derived
# from the Debian sources the machine already has; no host is hard-coded.
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
STAMP_VERSION=7
STAMP=/var/lib/sfemu-deps.stamp

PKGS=(
  build-essential pkg-config ninja-build git ca-certificates python3 python3-venv
  python3-pip bzip2 xz-utils dpkg-dev flex bison
  libglib2.0-dev libpcre2-dev libffi-dev zlib1g-dev
  liblua5.4-dev lua5.4 libcjson-dev libcurl4-openssl-dev libssl-dev openssl
  fuse3 fuse-overlayfs attr autoconf automake
  gcc-arm-linux-gnueabi gcc-mipsel-linux-gnu gcc-mips-linux-gnu gcc-aarch64-linux-gnu
  libc6-dev-armel-cross libc6-dev-mipsel-cross libc6-dev-mips-cross libc6-dev-arm64-cross
  valgrind curl file binutils-multiarch clang-format python3-jsonschema
)
BACKPORT_PKGS=(meson python3-pycotap)

have_all() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_VERSION" ] || return 1
  command -v meson >/dev/null && meson --version | awk -F. '{exit !($1>1 || ($1==1 && $2>=5))}'
}

if have_all && [ "${1:-}" != "--force" ]; then
  exit 0
fi

# Find the Debian archive URI the machine already uses (deb822 or one-line format).
debian_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/{u=$2} /^Suites:/{ for(i=2;i<=NF;i++) if ($i=="bookworm") {print u; exit} }' "$f"
  done
  if [ -f /etc/apt/sources.list ]; then
    awk '$1=="deb" && $0 ~ / bookworm / { for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit} }' /etc/apt/sources.list
  fi
}
URI=$(debian_uri | head -n1)
if [ -z "$URI" ]; then
  echo "install-deps: cannot find a Debian 'bookworm' entry in /etc/apt/sources.list{,.d}" >&2
  exit 1
fi
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
LIST=/etc/apt/sources.list.d/sfemu.sources
$SUDO tee "$LIST" >/dev/null <<SRC
# Written by SFEmu scripts/install-deps.sh, derived from the machine's own Debian entry.
Types: deb
URIs: $URI
Suites: bookworm-backports
Components: main
Signed-By: $KEYRING

Types: deb-src
URIs: $URI
Suites: trixie
Components: main
Signed-By: $KEYRING
SRC

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}"
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BACKPORT_PKGS[@]}"
echo "$STAMP_VERSION" | $SUDO tee "$STAMP" >/dev/null
echo "install-deps: done"
