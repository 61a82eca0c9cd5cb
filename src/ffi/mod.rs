//! The crate's foreign-function bindings: the only code, besides the spawning
//! of helper processes, where `unsafe` is allowed. Each wrapper here is safe to
//! call; the unsafe blocks say why they are sound.
#![allow(unsafe_code)]

pub(crate) mod dnf;
pub(crate) mod gio;
pub(crate) mod inherited_fd;
pub(crate) mod malloc;
pub(crate) mod ostree;
pub(crate) mod polkit;
pub(crate) mod rlimit;
pub(crate) mod xattr;
