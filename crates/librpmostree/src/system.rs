//! The rpm base architecture and the run-time version check.

use std::ffi::{CString, c_char};

use crate::ffi_util::{precondition_failed, set_error, str_arg};

/// The release this library is, as (year, release): 2026.2.0 is (2026, 2).
pub(crate) fn version() -> (u32, u32) {
    let num = |s: &str| s.parse().expect("cargo gives numbers");
    (
        num(env!("CARGO_PKG_VERSION_MAJOR")),
        num(env!("CARGO_PKG_VERSION_MINOR")),
    )
}

/// A g_malloc'ed copy of `s`, for the caller to g_free.
fn g_strdup(s: &str) -> *mut c_char {
    let c = CString::new(s).unwrap_or_default();
    // SAFETY: `c` is a valid C string; g_strdup copies it.
    unsafe { glib::ffi::g_strdup(c.as_ptr()) }
}

#[unsafe(no_mangle)]
pub extern "C" fn rpm_ostree_get_basearch() -> *mut c_char {
    g_strdup(rpmostree_pkglist::arch::basearch())
}

/// # Safety
/// `src` is NULL or a NUL-terminated string; `error` is NULL or points to a
/// NULL `GError *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rpm_ostree_varsubst_basearch(
    src: *const c_char,
    error: *mut *mut glib::ffi::GError,
) -> *mut c_char {
    // SAFETY: `src` is NULL or a C string (caller's contract).
    let Some(src) = (unsafe { str_arg(src) }) else {
        precondition_failed("rpm_ostree_varsubst_basearch", "src != NULL");
        return std::ptr::null_mut();
    };
    match rpmostree_pkglist::arch::varsubst_basearch(src) {
        Ok(s) => g_strdup(&s),
        Err(e) => {
            // SAFETY: `error` is NULL or a valid error location (caller's contract).
            unsafe { set_error(error, &format!("{e:#}")) };
            std::ptr::null_mut()
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn rpm_ostree_check_version(
    required_year: u32,
    required_release: u32,
) -> glib::ffi::gboolean {
    let (year, release) = version();
    let ok = year > required_year || (year == required_year && release >= required_release);
    glib::ffi::gboolean::from(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_checks() {
        assert_eq!(version(), (2026, 2));
        assert_eq!(rpm_ostree_check_version(2017, 8), glib::ffi::GTRUE);
        assert_eq!(rpm_ostree_check_version(2026, 2), glib::ffi::GTRUE);
        assert_eq!(rpm_ostree_check_version(2026, 3), glib::ffi::GFALSE);
        assert_eq!(rpm_ostree_check_version(2027, 0), glib::ffi::GFALSE);
    }
}
