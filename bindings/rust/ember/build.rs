// Tests and examples of this crate find libember where EMBER_LIB_DIR says (an rpath); linking
// itself comes from ember-sys.
fn main() {
    println!("cargo:rerun-if-env-changed=EMBER_LIB_DIR");
    if let Ok(dir) = std::env::var("EMBER_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
