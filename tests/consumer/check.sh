#!/usr/bin/env bash
# Builds the consumer programs (consumer.c, consumer.cpp) against an installed Ember the two ways a
# product does, CMake's find_package(ember) and pkg-config, each shared and static, and runs them
# on a model. The shared ones must run without LD_LIBRARY_PATH (rpath), the static ones must not
# need libember.so at all.
#   check.sh PREFIX MODEL [WORK_DIR]    PREFIX: the installed tree (/usr, or a dpkg -x root's usr)
set -euo pipefail
prefix=$(realpath "$1")
model=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
work=${3:-$(mktemp -d)}
mkdir -p "$work"
prompt="Once upon a time"
want="there was a little girl"
unset LD_LIBRARY_PATH

run() {  # program: prints the continuation, which must be the model's greedy one
  local out
  out=$("$1" "$model" "$prompt")
  echo "  $(basename "$1"): $out"
  grep -q "$want" <<<"$out" || { echo "check.sh: $1 did not continue the prompt as expected" >&2; exit 1; }
}
static_only() {  # program: linked without libember.so
  if grep -q 'NEEDED.*libember' <<<"$(readelf -d "$1")"; then
    echo "check.sh: $1 should be linked statically but needs libember.so" >&2
    exit 1
  fi
}

echo "== find_package(ember) from $prefix"
cmake -S "$here" -B "$work/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
for p in consumer_c_shared consumer_cpp_shared consumer_c_static consumer_cpp_static; do run "$work/cmake/$p"; done
static_only "$work/cmake/consumer_c_static"
static_only "$work/cmake/consumer_cpp_static"

echo "== pkg-config ember from $prefix"
pcdir=$(dirname "$(find "$prefix"/lib* -maxdepth 3 -path '*/pkgconfig/ember.pc' -print -quit)")
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir ember)
mkdir -p "$work/pc"
# Shared: Libs, with an rpath to the library's folder (not needed for one installed in /usr/lib).
cc -std=c11 "$here/consumer.c" $(pkg-config --cflags --libs ember) -Wl,-rpath,"$libdir" -o "$work/pc/c_shared"
c++ -std=c++17 "$here/consumer.cpp" $(pkg-config --cflags --libs ember) -Wl,-rpath,"$libdir" -o "$work/pc/cpp_shared"
# Static: libember.a first, then Libs.private (pkg-config --static).
static_libs=(-Wl,--as-needed -Wl,-Bstatic -lember -Wl,-Bdynamic $(pkg-config --static --libs ember))
cc -std=c11 "$here/consumer.c" $(pkg-config --cflags ember) "${static_libs[@]}" -o "$work/pc/c_static"
c++ -std=c++17 "$here/consumer.cpp" $(pkg-config --cflags ember) "${static_libs[@]}" -o "$work/pc/cpp_static"
for p in c_shared cpp_shared c_static cpp_static; do run "$work/pc/$p"; done
static_only "$work/pc/c_static"
static_only "$work/pc/cpp_static"
echo "consumer: 8 programs built against $prefix and run"
