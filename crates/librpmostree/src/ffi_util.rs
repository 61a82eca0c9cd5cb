//! What every exported function needs at the C boundary: argument checks in
//! the manner of `g_return_val_if_fail`, C strings, GErrors and GPtrArrays.

use glib::prelude::*;
use glib::translate::*;
use std::ffi::{CStr, c_char};

/// The log domain of the library's critical warnings.
pub(crate) const LOG_DOMAIN: &str = "RpmOstree";

/// Logs a programming error of the caller (a failed precondition), as
/// `g_return_val_if_fail` does.
pub(crate) fn precondition_failed(function: &str, condition: &str) {
    glib::g_critical!(LOG_DOMAIN, "{}: assertion '{}' failed", function, condition);
}

/// The UTF-8 string `s` points to; `None` for NULL or invalid UTF-8.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: non-NULL, and by the caller's contract NUL-terminated and alive.
    unsafe { CStr::from_ptr(s) }.to_str().ok()
}

/// Stores a `G_IO_ERROR_FAILED` error with `message` in `error` (when the
/// caller asked for errors).
///
/// # Safety
/// `error` is NULL or points to a `GError *` that is NULL.
pub(crate) unsafe fn set_error(error: *mut *mut glib::ffi::GError, message: &str) {
    if error.is_null() {
        return;
    }
    let e = glib::Error::new(gio::IOErrorEnum::Failed, message);
    // SAFETY: `error` is non-NULL and, by the caller's contract, a valid
    // location for an error; the GError's ownership passes to the caller.
    unsafe { *error = e.into_glib_ptr() };
}

/// `g_object_unref` as a `GDestroyNotify`.
unsafe extern "C" fn object_unref(p: glib::ffi::gpointer) {
    // SAFETY: the array this is the free function of holds only GObjects,
    // each with a reference the array owns.
    unsafe { glib::gobject_ffi::g_object_unref(p.cast()) }
}

/// A new GPtrArray that owns a reference to each of `objects`.
pub(crate) fn object_array<T: IsA<glib::Object>>(
    objects: impl IntoIterator<Item = T>,
) -> *mut glib::ffi::GPtrArray {
    // SAFETY: a new, empty array that frees its elements with g_object_unref.
    let array = unsafe { glib::ffi::g_ptr_array_new_with_free_func(Some(object_unref)) };
    for o in objects {
        let o = o.upcast::<glib::Object>();
        // SAFETY: `array` is valid; the reference into_glib_ptr hands over
        // becomes the array's, released by its free function.
        unsafe {
            let p: *mut glib::gobject_ffi::GObject = o.into_glib_ptr();
            glib::ffi::g_ptr_array_add(array, p.cast());
        }
    }
    array
}
