#!/usr/bin/env bash
# README command 1: install what is missing, build everything (Release), run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build/release
exec ./build/release/examples/ember-selfcheck "$@"
