//! Domain logic over libostree, free of D-Bus types: origin files, refspecs,
//! deployment status dictionaries, signature verification.

pub(crate) mod cached_update;
pub(crate) mod cpio;
pub(crate) mod driver;
pub(crate) mod origin;
pub(crate) mod refspec;
pub(crate) mod revision;
pub(crate) mod signatures;
pub(crate) mod status;

/// A GVariant dictionary (`a{sv}`) under construction.
pub(crate) type Dict = std::collections::BTreeMap<String, glib::Variant>;
