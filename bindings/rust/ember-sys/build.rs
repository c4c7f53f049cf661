// Links libember. Where from, in order:
//   EMBER_LIB_DIR   a folder holding libember.so / libember.a (a CMake build folder, a prefix's lib/)
//   pkg-config      an installed Ember (cmake --install, the libember-dev package): ember.pc
// Shared by default. The `static` feature, or EMBER_STATIC=1, links libember.a and its own
// dependencies instead (pkg-config's Libs.private), so that a program runs with no libember.so
// anywhere: the way to ship a binary against an Ember installed outside the loader's path.
// With EMBER_LIB_DIR, this crate's own tests get an rpath to it.
use std::env;
use std::process::Command;

// pkg-config's answer; `first` is a folder searched for ember.pc before PKG_CONFIG_PATH.
fn pkg_config(args: &[&str], first: Option<&str>) -> Option<String> {
    let mut cmd = Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()));
    if let Some(dir) = first {
        let rest = env::var("PKG_CONFIG_PATH").unwrap_or_default();
        cmd.env("PKG_CONFIG_PATH", format!("{dir}:{dir}/pkgconfig:{rest}"));
    }
    let out = cmd.args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

// The libraries of a pkg-config answer, as cargo instructions (libember itself excluded).
fn emit_libs(flags: &str) {
    for flag in flags.split_whitespace() {
        if flag.starts_with("-L") {
            continue; // libember's folder is given already; its dependencies are the system's
        } else if let Some(lib) = flag.strip_prefix("-l") {
            if lib != "ember" {
                println!("cargo:rustc-link-lib={lib}");
            }
        } else if flag == "-pthread" {
            println!("cargo:rustc-link-lib=pthread");
        }
    }
}

// libember.a's dependencies when there is no ember.pc to ask (EMBER_LIB_DIR of a build folder).
const STATIC_DEPS: &[&str] = &["pcre2-8", "utf8proc", "dnnl", "gomp", "stdc++", "m", "pthread"];

fn main() {
    for var in ["EMBER_LIB_DIR", "EMBER_STATIC", "PKG_CONFIG_PATH", "PKG_CONFIG"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let static_link = env::var("CARGO_FEATURE_STATIC").is_ok() || env::var("EMBER_STATIC").map_or(false, |v| v == "1");
    let kind = if static_link { "static" } else { "dylib" };
    if let Ok(dir) = env::var("EMBER_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib={kind}=ember");
        if static_link {
            // A build folder holds its ember.pc (with Libs.private) beside the library.
            match pkg_config(&["--static", "--libs", "ember"], Some(&dir)) {
                Some(flags) => emit_libs(&flags),
                None => STATIC_DEPS.iter().for_each(|l| println!("cargo:rustc-link-lib={l}")),
            }
        } else {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
        println!("cargo:libdir={dir}");
        return;
    }
    let Some(libdir) = pkg_config(&["--variable=libdir", "ember"], None) else {
        panic!("ember-sys: libember not found. Install Ember (cmake --install, or the libember-dev package) so that \
                `pkg-config ember` finds it (set PKG_CONFIG_PATH for a prefix of your own), or set EMBER_LIB_DIR to \
                the folder holding libember.so");
    };
    println!("cargo:rustc-link-search=native={libdir}");
    println!("cargo:rustc-link-lib={kind}=ember");
    if static_link {
        emit_libs(&pkg_config(&["--static", "--libs", "ember"], None).unwrap_or_default());
    }
    println!("cargo:libdir={libdir}");
}
