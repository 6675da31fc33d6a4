#!/usr/bin/env bash
# Installs the dependencies (once) and builds everything into build/ (and,
# with --asan, our non-QEMU code with AddressSanitizer+UBSan into build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
ninja -C build
if [ "${1:-}" = --asan ]; then
  if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan -Dqemu=false -Dguests=false \
      -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  fi
  ninja -C build-asan
fi
