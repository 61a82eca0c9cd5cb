//! Domain logic over libostree, free of D-Bus types: origins, refspecs,
//! deployment status dictionaries, pulls, writing deployments, initramfs
//! images, the sysroot cleanup. Work on a sysroot takes a [`Ctx`]: the
//! sysroot, cancellation in, progress out.

pub(crate) mod cached_update;
pub mod cleanup;
pub(crate) mod cpio;
mod ctx;
pub(crate) mod initramfs;
pub(crate) mod origin;
pub mod pull;
pub(crate) mod refspec;
pub(crate) mod revision;
pub(crate) mod signatures;
pub(crate) mod status;
pub(crate) mod write;

pub(crate) use ctx::Ctx;

/// A GVariant dictionary (`a{sv}`) under construction.
pub(crate) type Dict = std::collections::BTreeMap<String, glib::Variant>;
