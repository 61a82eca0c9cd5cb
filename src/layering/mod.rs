//! Package layering (phase 2): the packages of a commit, and how two package
//! sets differ. Free of D-Bus types; may use `deployment`, never the reverse.

pub(crate) mod diff;
pub(crate) mod nevra;
pub mod pkgdb;
pub(crate) mod pkglist;
