//! libostree calls the `ostree` crate does not bind: the sysroot-aware prune
//! (`ostree_sysroot_cleanup_prune_repo`) with extra commits kept reachable.

use glib::translate::{ToGlibPtr, from_glib_full};
use std::ffi::CString;

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

fn check(ok: glib::ffi::gboolean, error: *mut glib::ffi::GError) -> Result<(), glib::Error> {
    if ok == 0 {
        // SAFETY: on failure libostree set `error`, which we now own.
        Err(unsafe { from_glib_full(error) })
    } else {
        Ok(())
    }
}

/// libostree's prune of the system repository: refs-only, depth 0, keeping
/// every deployment's commit (what `ostree admin cleanup` does), and also
/// `extra_roots` (a commit being deployed). Takes the repository's
/// exclusive lock for its duration.
pub(crate) fn cleanup_prune_repo(
    sysroot: &ostree::Sysroot,
    extra_roots: &[String],
    cancellable: &gio::Cancellable,
) -> Result<Pruned, glib::Error> {
    let repo = sysroot.repo();
    // SAFETY: returns a new table (transfer full), owned by `reachable`.
    let reachable = Reachable(unsafe { ostree::ffi::ostree_repo_traverse_new_reachable() });
    for root in extra_roots {
        let c = CString::new(root.as_str())
            .map_err(|_| glib::Error::new(gio::IOErrorEnum::InvalidArgument, "NUL in checksum"))?;
        let mut error = std::ptr::null_mut();
        // SAFETY: valid repo, NUL-terminated checksum, the table created above
        // and a valid cancellable; `error` is an out-parameter.
        let ok = unsafe {
            ostree::ffi::ostree_repo_traverse_commit_union(
                repo.to_glib_none().0,
                c.as_ptr(),
                0,
                reachable.0,
                cancellable.to_glib_none().0,
                &mut error,
            )
        };
        check(ok, error)?;
    }
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
    check(ok, error)?;
    Ok(Pruned {
        total: total.max(0) as u64,
        pruned: pruned.max(0) as u64,
        freed,
    })
}
