#!/usr/bin/env bash
# README command 2 (and CI): install what is missing, then build and pass every test five ways:
#   1. Release, warnings as errors, with oneDNN;
#   2. without oneDNN (EMBER_WITH_ONEDNN=OFF must build and pass too);
#   3. AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. cross-compiled for AArch64 and run under qemu: the NEON kernels against the references;
#   5. the file parsers under libFuzzer for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
jobs=$(nproc)

# Python oracles (gguf-py; pinned in tests/python/requirements.txt) in a venv of our own.
venv=build/venv
if [[ ! -x $venv/bin/python ]] || ! cmp -s tests/python/requirements.txt $venv/requirements.txt; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
  cp tests/python/requirements.txt "$venv/requirements.txt"
fi
# The Node bindings' one dependency (koffi, prebuilt binaries) from npm, pinned in package.json.
if command -v npm >/dev/null && [[ ! -d bindings/node/node_modules/koffi ]]; then
  (cd bindings/node && npm install --silent --no-audit --no-fund)
fi

# The real instruct model for the end-to-end tests (skipped, saying so, when it cannot be fetched).
smollm2=$(bash scripts/fetch-smollm2.sh || true)
py=("-DEMBER_PYTHON=$PWD/$venv/bin/python" "-DEMBER_SMOLLM2_GGUF=$smollm2")

run_suite() {  # name, cmake options...
  local dir="build/$1"; shift
  echo "=== build $dir ($*)"
  cmake -S . -B "$dir" -G Ninja -DEMBER_WERROR=ON "$@"
  cmake --build "$dir" -j "$jobs"
  echo "=== test $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600
}

run_suite ci -DCMAKE_BUILD_TYPE=Release "${py[@]}"
run_suite ci-no-onednn -DCMAKE_BUILD_TYPE=Release -DEMBER_WITH_ONEDNN=OFF -DEMBER_BUILD_BENCH=OFF "${py[@]}"
# -O1 -g1: half the compile time of -O2 -g under the sanitizers, line numbers still in reports.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite ci-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DEMBER_SANITIZE=ON -DEMBER_BUILD_BENCH=OFF
run_suite ci-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DEMBER_WITH_ONEDNN=OFF \
  -DEMBER_BUILD_BENCH=OFF

# 5. The parsers under libFuzzer (clang, ASan+UBSan), each for a bounded time from real seeds.
echo "=== fuzz"
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_FUZZ=ON \
  -DEMBER_WITH_ONEDNN=OFF -DEMBER_BUILD_TESTS=OFF -DEMBER_BUILD_BENCH=OFF
cmake --build build/fuzz -j "$jobs" --target fuzz_gguf fuzz_sentencepiece fuzz_chat_template fuzz_safetensors \
  fuzz_tokenizer_json
mkdir -p build/fuzz/corpus-gguf build/fuzz/corpus-spm build/fuzz/corpus-template build/fuzz/corpus-safetensors \
  build/fuzz/corpus-tokjson
# A small tokenizer.json seed (the real ones are megabytes; the fuzzer mutates structure).
cat > build/fuzz/corpus-tokjson/seed.json <<'JSON'
{"added_tokens":[{"id":5,"content":"<|im_start|>","special":true}],"normalizer":{"type":"NFC"},
 "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},
 "model":{"type":"BPE","vocab":{"H":0,"e":1,"l":2,"o":3,"He":4},"merges":["H e",["l","l"]]}}
JSON
cp ../shared/data/chat_templates/*.jinja build/fuzz/corpus-template/ 2>/dev/null || true
cp tests/data/quants/*.gguf build/fuzz/corpus-gguf/
spm=../shared/data/models/stories260K/tok512.model
if [[ -f $spm ]]; then  # seed: a real model in the first half, text in the second (fuzz_sentencepiece)
  { cat "$spm"; head -c "$(stat -c %s "$spm")" /dev/zero | tr '\0' 'a'; } > build/fuzz/corpus-spm/seed
fi
for target in gguf spm template safetensors tokjson; do
  bin=fuzz_gguf
  [[ $target == spm ]] && bin=fuzz_sentencepiece
  [[ $target == template ]] && bin=fuzz_chat_template
  [[ $target == safetensors ]] && bin=fuzz_safetensors
  [[ $target == tokjson ]] && bin=fuzz_tokenizer_json
  ./build/fuzz/tests/fuzz/$bin -max_total_time="${EMBER_FUZZ_SECONDS:-12}" -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix=build/fuzz/ "build/fuzz/corpus-$target" tests/data/fuzz-regressions
done
echo "all suites passed"
