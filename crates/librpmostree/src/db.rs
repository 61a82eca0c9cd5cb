//! `rpm_ostree_db_query_all`, `rpm_ostree_db_diff` and
//! `rpm_ostree_db_diff_ext`: the packages of commits of an `OstreeRepo`, as
//! GPtrArrays of `RpmOstreePackage`.

use glib::prelude::*;
use glib::translate::*;
use std::ffi::c_char;

use crate::diff::diff;
use crate::ffi_util::{object_array, precondition_failed, set_error, str_arg};
use crate::package::Package;
use rpmostree_pkglist::pkglist;

/// `RPM_OSTREE_DB_DIFF_EXT_ALLOW_NOENT`.
const ALLOW_NOENT: u32 = 1 << 0;

type GPtrArray = glib::ffi::GPtrArray;
type GError = glib::ffi::GError;

/// The repository `repo` points to, if it points to one.
///
/// # Safety
/// `repo` is NULL or points to a live GTypeInstance.
unsafe fn repo_arg(
    repo: *mut ostree::ffi::OstreeRepo,
    function: &str,
) -> Option<Borrowed<ostree::Repo>> {
    // SAFETY: a live instance (caller's contract); the check reads its class.
    let ok = !repo.is_null()
        && unsafe {
            glib::gobject_ffi::g_type_check_instance_is_a(
                repo.cast(),
                ostree::Repo::static_type().into_glib(),
            )
        } != glib::ffi::GFALSE;
    if !ok {
        precondition_failed(function, "OSTREE_IS_REPO (repo)");
        return None;
    }
    // SAFETY: `repo` is a live OstreeRepo; the borrow ends with the call.
    Some(unsafe { from_glib_borrow(repo) })
}

/// The packages of `rev` in `repo`, sorted; `None` when the commit has no
/// package list and `allow_noent` says that is no error.
fn package_list(
    repo: &ostree::Repo,
    rev: &str,
    allow_noent: bool,
) -> Result<Option<Vec<Package>>, String> {
    let load = || -> Result<Option<Vec<rpmostree_pkglist::Package>>, String> {
        let csum = repo
            .resolve_rev(rev, false)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("Refspec '{rev}' not found"))?;
        match pkglist::commit_packages_if_any(repo, &csum).map_err(|e| format!("{e:#}"))? {
            Some(pkgs) => Ok(Some(pkgs)),
            None if allow_noent => Ok(None),
            None => Err("No package database found".to_string()),
        }
    };
    let pkgs = load().map_err(|e| format!("Loading package list: {e}"))?;
    Ok(pkgs.map(|list| list.into_iter().map(Package::new).collect()))
}

/// # Safety
/// `repo` is NULL or a live object, `ref_` NULL or a C string, `error` NULL
/// or a location holding NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rpm_ostree_db_query_all(
    repo: *mut ostree::ffi::OstreeRepo,
    ref_: *const c_char,
    _cancellable: *mut gio::ffi::GCancellable,
    error: *mut *mut GError,
) -> *mut GPtrArray {
    const F: &str = "rpm_ostree_db_query_all";
    // SAFETY: forwarded from the caller.
    let Some(repo) = (unsafe { repo_arg(repo, F) }) else {
        return std::ptr::null_mut();
    };
    // SAFETY: forwarded from the caller.
    let Some(rev) = (unsafe { str_arg(ref_) }) else {
        precondition_failed(F, "ref != NULL");
        return std::ptr::null_mut();
    };
    match package_list(&repo, rev, false) {
        Ok(pkgs) => object_array(pkgs.unwrap_or_default()),
        Err(e) => {
            // SAFETY: forwarded from the caller.
            unsafe { set_error(error, &e) };
            std::ptr::null_mut()
        }
    }
}

/// # Safety
/// As [`rpm_ostree_db_diff_ext`].
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rpm_ostree_db_diff(
    repo: *mut ostree::ffi::OstreeRepo,
    orig_ref: *const c_char,
    new_ref: *const c_char,
    out_removed: *mut *mut GPtrArray,
    out_added: *mut *mut GPtrArray,
    out_modified_old: *mut *mut GPtrArray,
    out_modified_new: *mut *mut GPtrArray,
    cancellable: *mut gio::ffi::GCancellable,
    error: *mut *mut GError,
) -> glib::ffi::gboolean {
    // SAFETY: forwarded from the caller.
    unsafe {
        rpm_ostree_db_diff_ext(
            repo,
            orig_ref,
            new_ref,
            0,
            out_removed,
            out_added,
            out_modified_old,
            out_modified_new,
            cancellable,
            error,
        )
    }
}

/// Stores `value` in the output location `out`, if the caller gave one.
///
/// # Safety
/// `out` is NULL or a writable `GPtrArray *` location.
unsafe fn put(out: *mut *mut GPtrArray, value: impl FnOnce() -> *mut GPtrArray) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable (caller's contract).
        unsafe { *out = value() };
    }
}

/// # Safety
/// `repo` is NULL or a live object, the refs NULL or C strings, each `out_*`
/// NULL or a writable location, `error` NULL or a location holding NULL.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn rpm_ostree_db_diff_ext(
    repo: *mut ostree::ffi::OstreeRepo,
    orig_ref: *const c_char,
    new_ref: *const c_char,
    flags: u32,
    out_removed: *mut *mut GPtrArray,
    out_added: *mut *mut GPtrArray,
    out_modified_old: *mut *mut GPtrArray,
    out_modified_new: *mut *mut GPtrArray,
    _cancellable: *mut gio::ffi::GCancellable,
    error: *mut *mut GError,
) -> glib::ffi::gboolean {
    const F: &str = "rpm_ostree_db_diff_ext";
    let outs = [out_removed, out_added, out_modified_old, out_modified_new];
    if outs.iter().all(|o| o.is_null()) {
        precondition_failed(
            F,
            "out_removed || out_added || out_modified_old || out_modified_new",
        );
        return glib::ffi::GFALSE;
    }
    // SAFETY: forwarded from the caller.
    let Some(repo) = (unsafe { repo_arg(repo, F) }) else {
        return glib::ffi::GFALSE;
    };
    // SAFETY: forwarded from the caller.
    let (Some(orig), Some(new)) = (unsafe { str_arg(orig_ref) }, unsafe { str_arg(new_ref) })
    else {
        precondition_failed(F, "orig_ref != NULL && new_ref != NULL");
        return glib::ffi::GFALSE;
    };
    let allow_noent = flags & ALLOW_NOENT != 0;
    let lists = package_list(&repo, orig, allow_noent).and_then(|a| match a {
        Some(a) => Ok(package_list(&repo, new, allow_noent)?.map(|b| (a, b))),
        None => Ok(None),
    });
    let (a, b) = match lists {
        Ok(Some(lists)) => lists,
        Ok(None) => {
            for out in outs {
                // SAFETY: forwarded from the caller.
                unsafe { put(out, std::ptr::null_mut) };
            }
            return glib::ffi::GTRUE;
        }
        Err(e) => {
            // SAFETY: forwarded from the caller.
            unsafe { set_error(error, &e) };
            return glib::ffi::GFALSE;
        }
    };
    let olds: Vec<rpmostree_pkglist::Package> = a.iter().map(|p| p.package().clone()).collect();
    let news: Vec<rpmostree_pkglist::Package> = b.iter().map(|p| p.package().clone()).collect();
    let d = diff(&olds, &news);
    // SAFETY: each out_* location is forwarded from the caller.
    unsafe {
        put(out_removed, || {
            object_array(d.removed.iter().map(|&i| a[i].clone()))
        });
        put(out_added, || {
            object_array(d.added.iter().map(|&j| b[j].clone()))
        });
        put(out_modified_old, || {
            object_array(d.modified.iter().map(|&(i, _)| a[i].clone()))
        });
        put(out_modified_new, || {
            object_array(d.modified.iter().map(|&(_, j)| b[j].clone()))
        });
    }
    glib::ffi::GTRUE
}
