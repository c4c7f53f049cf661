#!/usr/bin/env bash
# Installs the Debian packages Ember builds with, if any is missing (needs root, as on a fresh
# Debian machine; uses sudo otherwise). Every package is named: nothing is left to "Recommends"
# or to what a machine happens to have (scripts/check-fresh-machine.sh proves it on a fresh root).
# --test adds what the test suite needs beyond the build: GoogleTest, the packaging tools, the
# AArch64 cross compiler and qemu (the whole suite on the NEON kernels), clang (libFuzzer).
set -euo pipefail
# The build: the library, the tools and ember-bench. python3-venv: scripts/fetch-smollm2.sh;
# libedit-dev: ember-chat's line editing.
# ocl-icd-opencl-dev: Debian's oneDNN CMake package looks for OpenCL (libdnnl-dev only recommends it).
packages=(build-essential cmake ninja-build pkg-config python3 python3-venv ca-certificates
          libeigen3-dev libxsimd-dev xtl-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev
          libdnnl-dev ocl-icd-opencl-dev libcpp-httplib-dev libbenchmark-dev libedit-dev)
if [[ "${1:-}" == "--test" ]]; then
  # file, dpkg-dev: cpack's .deb packages (tests/consumer/check-deb.sh); mmdebstrap:
  # scripts/check-fresh-machine.sh.
  packages+=(libgtest-dev googletest file dpkg-dev mmdebstrap g++-aarch64-linux-gnu qemu-user-static clang
             libclang-rt-14-dev libpcre2-dev:arm64 libutf8proc-dev:arm64)
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
