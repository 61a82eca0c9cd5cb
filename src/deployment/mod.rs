//! Domain logic over libostree, free of D-Bus types: origins, refspecs,
//! deployment status dictionaries, pulls, writing deployments, initramfs
//! images, the sysroot cleanup. Work on a sysroot takes a [`Ctx`]: the
//! sysroot, cancellation in, progress out.

pub(crate) mod cached_update;
pub mod cleanup;
pub(crate) mod cpio;
mod ctx;
pub(crate) mod imgref;
pub(crate) mod inhibitors;
pub(crate) mod initramfs;
pub(crate) mod journal;
pub(crate) mod origin;
pub mod pull;
pub(crate) mod refspec;
pub(crate) mod revision;
pub(crate) mod signatures;
pub(crate) mod status;
pub(crate) mod write;

pub(crate) use ctx::Ctx;

/// The sysroot at `path`, loaded as it is now (not the transaction's copy,
/// which predates what the transaction wrote).
pub(crate) fn load_sysroot(path: &std::path::Path) -> anyhow::Result<ostree::Sysroot> {
    use anyhow::Context;
    let sysroot = ostree::Sysroot::new(Some(&gio::File::for_path(path)));
    sysroot
        .load(gio::Cancellable::NONE)
        .with_context(|| format!("Loading sysroot {}", path.display()))?;
    Ok(sysroot)
}

/// A GVariant dictionary (`a{sv}`) under construction.
pub(crate) type Dict = std::collections::BTreeMap<String, glib::Variant>;

/// rpm-ostree's cache directory for the OS `osname`: `/var/cache/rpm-ostree`
/// of a system managed at `/`, else the stateroot's `var/cache/rpm-ostree`.
pub(crate) fn cache_dir(sysroot_path: &std::path::Path, osname: &str) -> std::path::PathBuf {
    if sysroot_path == std::path::Path::new("/") {
        crate::names::CACHE_DIR.into()
    } else {
        sysroot_path
            .join("ostree/deploy")
            .join(osname)
            .join("var/cache/rpm-ostree")
    }
}

/// The directory a deployment is checked out in.
pub(crate) fn root_of(
    sysroot_path: &std::path::Path,
    sysroot: &ostree::Sysroot,
    d: &ostree::Deployment,
) -> std::path::PathBuf {
    sysroot_path.join(sysroot.deployment_dirpath(d).as_str())
}
