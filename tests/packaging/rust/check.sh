#!/usr/bin/env bash
# A user's Rust project (main.rs) over the `ember` crate, against Ember installed into a prefix of
# its own (cmake --install) and found by pkg-config, linked statically (the crate's `static`
# feature): the binary must run with no LD_LIBRARY_PATH and need no libember.so.
#   check.sh BUILD_DIR MODEL
. "$(dirname "$0")/../setup.sh" test-rust-package "$@"
mkdir -p "$work/app/src"
cmake --install "$build" --prefix "$work/prefix" --component dev >/dev/null
cmake --install "$build" --prefix "$work/prefix" --component runtime >/dev/null
cp "$here/main.rs" "$work/app/src/main.rs"
cat > "$work/app/Cargo.toml" <<TOML
[package]
name = "use-ember"
version = "0.1.0"
edition = "2021"

[dependencies]
ember = { path = "$repo/bindings/rust/ember", features = ["static"] }

[workspace]
TOML
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
unset EMBER_LIB_DIR LD_LIBRARY_PATH
cargo build --offline --quiet --release --manifest-path "$work/app/Cargo.toml" --target-dir "$work/target"
bin=$work/target/release/use-ember
if grep -q 'NEEDED.*libember' <<<"$(readelf -d "$bin")"; then
  echo "rust package: $bin should not need libember.so" >&2
  exit 1
fi
"$bin" "$model"
