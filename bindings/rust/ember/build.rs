// This crate's own tests find libember in the folder ember-sys linked it from (an
// rpath): DEP_EMBER_LIBDIR, which ember-sys's build script publishes. Not for static links.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_EMBER_LIBDIR");
    let static_link = std::env::var("CARGO_FEATURE_STATIC").is_ok() || std::env::var("EMBER_STATIC").map_or(false, |v| v == "1");
    if let (Ok(dir), false) = (std::env::var("DEP_EMBER_LIBDIR"), static_link) {
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
    }
}
