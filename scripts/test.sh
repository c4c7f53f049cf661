#!/usr/bin/env bash
# README command 2 (and CI): install what is missing, then build and pass every test four ways:
#   1. Release, warnings as errors, with oneDNN;
#   2. without oneDNN (EMBER_WITH_ONEDNN=OFF must build and pass too);
#   3. AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. cross-compiled for AArch64 and run under qemu: the NEON kernels against the references.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
jobs=$(nproc)

run_suite() {  # name, cmake options...
  local dir="build/$1"; shift
  echo "=== build $dir ($*)"
  cmake -S . -B "$dir" -G Ninja -DEMBER_WERROR=ON "$@"
  cmake --build "$dir" -j "$jobs"
  echo "=== test $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600
}

run_suite ci -DCMAKE_BUILD_TYPE=Release
run_suite ci-no-onednn -DCMAKE_BUILD_TYPE=Release -DEMBER_WITH_ONEDNN=OFF -DEMBER_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite ci-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_SANITIZE=ON -DEMBER_BUILD_BENCH=OFF
run_suite ci-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DEMBER_WITH_ONEDNN=OFF \
  -DEMBER_BUILD_BENCH=OFF
echo "all suites passed"
