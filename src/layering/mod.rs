//! Package layering (phase 2): the packages of a commit, how two package
//! sets differ, and the rpm-md repositories packages come from. Free of
//! D-Bus types; may use `deployment`, never the reverse.

pub(crate) mod assemble;
mod caps;
pub(crate) mod commit;
pub(crate) mod diff;
pub(crate) mod import;
pub(crate) mod initramfs;
pub(crate) mod local;
pub(crate) mod nevra;
pub(crate) mod pkgcache;
pub mod pkgdb;
pub(crate) mod pkglist;
pub(crate) mod removal;
pub(crate) mod request;
pub(crate) mod rpmdb;
pub mod rpmmd;
pub(crate) mod scripts;
pub(crate) mod selinux;
