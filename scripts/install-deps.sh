#!/usr/bin/env bash
# Installs the Debian packages Ember builds with, if any is missing (needs root, as on a fresh
# Debian machine; uses sudo otherwise). --test adds what the test suite needs beyond the build:
# the AArch64 cross compiler and qemu, which run the whole suite on the NEON kernels.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config python3 python3-venv ca-certificates libcpp-httplib-dev libeigen3-dev libdnnl-dev libxsimd-dev xtl-dev
          libgtest-dev googletest libbenchmark-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(g++-aarch64-linux-gnu qemu-user-static python3 python3-venv clang libclang-rt-14-dev
             libpcre2-dev:arm64 libutf8proc-dev:arm64)
  # The Rust and Node binding tests: Debian's toolchains where none is installed already.
  command -v cargo >/dev/null || [[ -x $HOME/.cargo/bin/cargo ]] || packages+=(cargo)
  command -v node >/dev/null || packages+=(nodejs npm)
  # The AArch64 cross build links Debian's arm64 libraries (multiarch).
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq
  fi
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
