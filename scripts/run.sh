#!/usr/bin/env bash
# README command 1: install what is missing, build everything a user runs (the library, the tools,
# ember-bench; Release), run the main job: a chat with SmolLM2-135M-Instruct (fetched once, see
# scripts/fetch-smollm2.sh), or with the bundled stories260K when it cannot be fetched. Arguments
# go to ember-chat (e.g. -p "a question").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF
cmake --build build/release
if model=$(bash scripts/fetch-smollm2.sh); then
  first="What is the capital of France, and what is it famous for?"
else
  echo "run.sh: SmolLM2 could not be fetched; chatting with the bundled stories260K instead" >&2
  model=models/stories260K.gguf
  first="Once upon a time"
fi
if (($# == 0)); then set -- -p "$first"; fi
exec ./build/release/examples/ember-chat -m "$model" "$@"
