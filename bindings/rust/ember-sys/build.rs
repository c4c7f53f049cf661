// Links libember: from EMBER_LIB_DIR (the CMake build folder holding libember.so), else the
// system's library path. An rpath lets tests and examples run from the build folder.
fn main() {
    println!("cargo:rerun-if-env-changed=EMBER_LIB_DIR");
    if let Ok(dir) = std::env::var("EMBER_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    println!("cargo:rustc-link-lib=dylib=ember");
}
