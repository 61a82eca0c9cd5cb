//! Links libdnf (Debian's libdnf-dev ships `libdnf.so`, but its pkg-config
//! file names librepo and rpm, whose .pc files are not installed: link it
//! directly).
fn main() {
    println!("cargo:rustc-link-lib=dylib=dnf");
}
