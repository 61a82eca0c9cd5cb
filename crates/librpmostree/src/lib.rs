//! librpmostree-1, upstream rpm-ostree's public C library, in Rust: the
//! packages of OSTree commits as `RpmOstreePackage` GObjects (`package`),
//! package lists and diffs of commits (`db`, pairing in `diff`), the rpm base
//! architecture and the version check (`system`). It reads commits with the
//! workspace crate `rpmostree-pkglist`, in-process: unlike upstream's, it
//! runs no `rpm-ostree` executable.
//!
//! The exported functions are upstream's twelve (`librpmostree-1.sym`), with
//! its C signatures (headers in `include/rpm-ostree-1/`). Every one is a thin
//! `extern "C"` shell that checks its pointers the way GLib's
//! `g_return_val_if_fail` does and converts to and from GLib types.
// A C ABI takes raw pointers; each unsafe block says why it is sound.
#![allow(unsafe_code)]

mod db;
mod diff;
mod ffi_util;
mod package;
mod system;

pub use package::Package;
