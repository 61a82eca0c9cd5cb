//! Links the C library as upstream's: soname `librpmostree-1.so.1`, and only
//! the public functions exported (`librpmostree-1.sym`).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = format!("{dir}/librpmostree-1.sym");
    println!("cargo:rerun-if-changed=librpmostree-1.sym");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librpmostree-1.so.1");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={script}");
}
