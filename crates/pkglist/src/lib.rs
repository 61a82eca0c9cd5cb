//! The packages of an OSTree commit, read straight from the repository: the
//! package type with rpm's version order (`nevra`), the commit's package list
//! or rpm database (`pkglist`), and rpm's base architecture (`arch`).
//!
//! Shared by rpm-ostree (its `db` commands, diffs and layering) and by the C
//! library `librpmostree-1`, which must link none of the daemon's code.

pub mod arch;
pub mod nevra;
pub mod pkglist;

pub use nevra::Package;
