//! Package layering (phase 2): the packages of a commit, how two package
//! sets differ, and the rpm-md repositories packages come from. Free of
//! D-Bus types; may use `deployment`, never the reverse.

pub(crate) mod diff;
pub(crate) mod nevra;
pub mod pkgdb;
pub(crate) mod pkglist;
pub mod rpmmd;
