//! libostree calls the `ostree` crate does not bind: the sysroot-aware prune
//! (`ostree_sysroot_cleanup_prune_repo`), which reports what it freed.

use glib::translate::{ToGlibPtr, from_glib_full};

/// What a prune did: objects seen, objects deleted, bytes freed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Pruned {
    pub total: u64,
    pub pruned: u64,
    pub freed: u64,
}

/// Owns a reachable-objects table of libostree (`ostree_repo_traverse_new_reachable`).
struct Reachable(*mut glib::ffi::GHashTable);

impl Drop for Reachable {
    fn drop(&mut self) {
        // SAFETY: the table was created by ostree_repo_traverse_new_reachable
        // and is released once, here.
        unsafe { glib::ffi::g_hash_table_unref(self.0) }
    }
}

/// libostree's prune of the system repository: refs-only, depth 0, keeping
/// every deployment's commit (what `ostree admin cleanup` does). Takes the
/// repository's exclusive lock for its duration.
pub(crate) fn cleanup_prune_repo(
    sysroot: &ostree::Sysroot,
    cancellable: &gio::Cancellable,
) -> Result<Pruned, glib::Error> {
    // SAFETY: returns a new table (transfer full), owned by `reachable`.
    let reachable = Reachable(unsafe { ostree::ffi::ostree_repo_traverse_new_reachable() });
    // SAFETY: OstreeRepoPruneOptions is plain data; all-zero is its empty value.
    let mut opts: ostree::ffi::OstreeRepoPruneOptions = unsafe { std::mem::zeroed() };
    opts.flags = ostree::ffi::OSTREE_REPO_PRUNE_FLAGS_REFS_ONLY;
    opts.reachable = reachable.0;
    let (mut total, mut pruned, mut freed) = (0, 0, 0u64);
    let mut error = std::ptr::null_mut();
    // SAFETY: valid sysroot, options and out-parameters; libostree adds to the
    // table but does not take it over.
    let ok = unsafe {
        ostree::ffi::ostree_sysroot_cleanup_prune_repo(
            sysroot.to_glib_none().0,
            &mut opts,
            &mut total,
            &mut pruned,
            &mut freed,
            cancellable.to_glib_none().0,
            &mut error,
        )
    };
    if ok == 0 {
        // SAFETY: on failure libostree set `error`, which we now own.
        return Err(unsafe { from_glib_full(error) });
    }
    Ok(Pruned {
        total: total.max(0) as u64,
        pruned: pruned.max(0) as u64,
        freed,
    })
}
