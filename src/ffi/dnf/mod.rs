//! A safe layer over the parts of libdnf the rpm-md helper uses
//! (`crates/dnf-sys`). Only the helper process `rpm-ostreed-dnf` calls it:
//! the daemon and the client never load libdnf.
//!
//! The GObjects (`DnfContext`, `DnfRepo`, `DnfState`, `DnfSack`,
//! `DnfPackage`) are held as `glib::Object`s, so references are counted by
//! GObject. Borrowed C strings are copied out at once.

mod package;
mod repo;

pub(crate) use package::{Goal, Package, Query, Sack};
pub(crate) use repo::Repo;

use dnf_sys as sys;
use glib::prelude::*;
use glib::translate::{FromGlibPtrFull, FromGlibPtrNone, from_glib_full};
use std::ffi::{CStr, CString, c_char};
use std::path::Path;

/// A C string from a Rust one; an interior NUL (never in paths and names
/// the helper is given) becomes an empty string.
pub(super) fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

pub(super) fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).unwrap_or_default()
}

/// Copies a borrowed, possibly NULL, C string.
pub(super) fn copied(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: libdnf returns NUL-terminated strings that live at least as long
    // as the object they were read from, which the caller holds.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The result of a call that reports failure through a `GError`.
pub(super) fn checked(
    ok: glib::ffi::gboolean,
    error: *mut glib::ffi::GError,
) -> Result<(), glib::Error> {
    if ok != 0 {
        return Ok(());
    }
    if error.is_null() {
        return Err(glib::Error::new(glib::FileError::Failed, "libdnf failed"));
    }
    // SAFETY: a failed call hands over ownership of the error it set.
    Err(unsafe { from_glib_full(error) })
}

/// Borrowed elements of a `GPtrArray` of GObjects, each with a new reference.
pub(super) fn objects(array: *mut glib::ffi::GPtrArray) -> Vec<glib::Object> {
    if array.is_null() {
        return Vec::new();
    }
    // SAFETY: the array is valid for the duration of this call (the caller
    // holds its owner); each element is a live GObject.
    unsafe {
        let a = &*array;
        (0..a.len as usize)
            .map(|i| {
                glib::Object::from_glib_none(*a.pdata.add(i) as *mut glib::gobject_ffi::GObject)
            })
            .collect()
    }
}

/// Process-wide settings, to be made before any context exists.
pub(crate) fn set_globals(config_file: &Path) {
    let path = cpath(config_file);
    // SAFETY: both only store a value in libdnf's global configuration.
    unsafe {
        sys::dnf_context_set_config_file_path(path.as_ptr());
        sys::dnf_context_set_plugins_all_disabled(1);
    }
}

/// `DnfContext`.
pub(crate) struct Context(glib::Object);

impl Context {
    pub(crate) fn new() -> Self {
        // SAFETY: dnf_context_new returns a new reference (transfer full).
        Self(unsafe { glib::Object::from_glib_full(sys::dnf_context_new() as *mut _) })
    }

    fn ptr(&self) -> *mut sys::DnfContext {
        self.0.as_ptr() as *mut sys::DnfContext
    }

    fn set_str(&self, f: unsafe extern "C" fn(*mut sys::DnfContext, *const c_char), v: &CStr) {
        // SAFETY: every setter passed here copies the string it is given.
        unsafe { f(self.ptr(), v.as_ptr()) }
    }

    fn set_bool(
        &self,
        f: unsafe extern "C" fn(*mut sys::DnfContext, glib::ffi::gboolean),
        v: bool,
    ) {
        // SAFETY: the setters passed here only store a flag.
        unsafe { f(self.ptr(), v.into()) }
    }

    fn set_dirs(
        &self,
        f: unsafe extern "C" fn(*mut sys::DnfContext, *const *const c_char),
        dirs: &[&Path],
    ) {
        let owned: Vec<CString> = dirs.iter().map(|d| cpath(d)).collect();
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        // SAFETY: a NULL-terminated array of strings that libdnf copies.
        unsafe { f(self.ptr(), ptrs.as_ptr()) }
    }

    pub(crate) fn set_repos_dirs(&self, dirs: &[&Path]) {
        self.set_dirs(sys::dnf_context_set_repos_dir, dirs)
    }
    pub(crate) fn set_vars_dirs(&self, dirs: &[&Path]) {
        self.set_dirs(sys::dnf_context_set_vars_dir, dirs)
    }
    pub(crate) fn set_release_ver(&self, v: &str) {
        self.set_str(sys::dnf_context_set_release_ver, &cstr(v))
    }
    pub(crate) fn set_cache_dir(&self, p: &Path) {
        self.set_str(sys::dnf_context_set_cache_dir, &cpath(p))
    }
    pub(crate) fn set_solv_dir(&self, p: &Path) {
        self.set_str(sys::dnf_context_set_solv_dir, &cpath(p))
    }
    pub(crate) fn set_lock_dir(&self, p: &Path) {
        self.set_str(sys::dnf_context_set_lock_dir, &cpath(p))
    }
    pub(crate) fn set_install_root(&self, p: &Path) {
        self.set_str(sys::dnf_context_set_install_root, &cpath(p))
    }
    pub(crate) fn set_source_root(&self, p: &Path) {
        self.set_str(sys::dnf_context_set_source_root, &cpath(p))
    }
    pub(crate) fn set_user_agent(&self, v: &str) {
        self.set_str(sys::dnf_context_set_user_agent, &cstr(v))
    }
    pub(crate) fn set_http_proxy(&self, v: &str) {
        self.set_str(sys::dnf_context_set_http_proxy, &cstr(v))
    }
    pub(crate) fn set_check_disk_space(&self, v: bool) {
        self.set_bool(sys::dnf_context_set_check_disk_space, v)
    }
    pub(crate) fn set_check_transaction(&self, v: bool) {
        self.set_bool(sys::dnf_context_set_check_transaction, v)
    }
    pub(crate) fn set_keep_cache(&self, v: bool) {
        self.set_bool(sys::dnf_context_set_keep_cache, v)
    }
    pub(crate) fn set_enable_filelists(&self, v: bool) {
        self.set_bool(sys::dnf_context_set_enable_filelists, v)
    }
    pub(crate) fn set_zchunk(&self, v: bool) {
        self.set_bool(sys::dnf_context_set_zchunk, v)
    }
    pub(crate) fn set_write_history(&self, v: bool) {
        self.set_bool(sys::dnf_context_set_write_history, v)
    }

    pub(crate) fn set_cache_age(&self, age: u32) {
        // SAFETY: stores a number.
        unsafe { sys::dnf_context_set_cache_age(self.ptr(), age) }
    }

    pub(crate) fn set_rpm_macro(&self, key: &str, value: &str) {
        let (k, v) = (cstr(key), cstr(value));
        // SAFETY: libdnf copies both strings.
        unsafe { sys::dnf_context_set_rpm_macro(self.ptr(), k.as_ptr(), v.as_ptr()) }
    }

    /// Loads the configuration and the repositories.
    pub(crate) fn setup(&self) -> Result<(), glib::Error> {
        let mut error = std::ptr::null_mut();
        // SAFETY: a valid context, no cancellable, an error out-pointer.
        let ok = unsafe { sys::dnf_context_setup(self.ptr(), std::ptr::null_mut(), &mut error) };
        checked(ok, error)
    }

    /// The repositories, in libdnf's order (by cost).
    pub(crate) fn repos(&self) -> Vec<Repo> {
        // SAFETY: transfer none: the array belongs to the context, alive here.
        let array = unsafe { sys::dnf_context_get_repos(self.ptr()) };
        objects(array).into_iter().map(Repo).collect()
    }

    /// Loads the metadata of the enabled repositories into the sack.
    pub(crate) fn setup_sack(&self, state: &State, flags: u32) -> Result<(), glib::Error> {
        let mut error = std::ptr::null_mut();
        // SAFETY: valid context and state objects, an error out-pointer.
        let ok = unsafe {
            sys::dnf_context_setup_sack_with_flags(self.ptr(), state.ptr(), flags, &mut error)
        };
        checked(ok, error)
    }

    /// Adds the best match of `pattern` (a name, provide or path) to the goal.
    pub(crate) fn install(&self, pattern: &str) -> Result<(), glib::Error> {
        let p = cstr(pattern);
        let mut error = std::ptr::null_mut();
        // SAFETY: a set-up context; libdnf copies the pattern.
        let ok = unsafe { sys::dnf_context_install(self.ptr(), p.as_ptr(), &mut error) };
        checked(ok, error)
    }

    pub(crate) fn goal(&self) -> Goal {
        Goal {
            // SAFETY: transfer none: the goal lives as long as the context,
            // which the Goal keeps alive.
            goal: unsafe { sys::dnf_context_get_goal(self.ptr()) },
            _ctx: self.0.clone(),
        }
    }

    pub(crate) fn sack(&self) -> Option<Sack> {
        // SAFETY: transfer none; a new reference is taken.
        let sack = unsafe { sys::dnf_context_get_sack(self.ptr()) };
        // SAFETY: the sack, when set, is a live GObject.
        (!sack.is_null()).then(|| Sack(unsafe { glib::Object::from_glib_none(sack as *mut _) }))
    }
}

/// `DnfState`: libdnf's progress of one step.
pub(crate) struct State(glib::Object);

impl State {
    pub(crate) fn new() -> Self {
        // SAFETY: dnf_state_new returns a new reference (transfer full).
        Self(unsafe { glib::Object::from_glib_full(sys::dnf_state_new() as *mut _) })
    }

    fn ptr(&self) -> *mut sys::DnfState {
        self.0.as_ptr() as *mut sys::DnfState
    }

    pub(crate) fn reset(&self) {
        // SAFETY: a valid state.
        unsafe { sys::dnf_state_reset(self.ptr()) };
    }

    /// Calls `f` with each new percentage.
    pub(crate) fn on_percentage(&self, f: impl Fn(u32) + 'static) {
        self.0
            .connect_local("percentage-changed", false, move |args| {
                f(args.get(1).and_then(|v| v.get::<u32>().ok()).unwrap_or(0));
                None
            });
    }
}

/// A code of libdnf's error domain (`DnfError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DnfError(i32);

impl glib::error::ErrorDomain for DnfError {
    fn domain() -> glib::Quark {
        // SAFETY: returns the registered quark of libdnf's error domain, a
        // nonzero GQuark.
        unsafe { glib::translate::from_glib(sys::dnf_error_quark()) }
    }
    fn code(self) -> i32 {
        self.0
    }
    fn from(code: i32) -> Option<Self> {
        Some(Self(code))
    }
}

/// True if `e` is libdnf's "cannot fetch" or "not available" (what
/// `skip_if_unavailable` forgives).
pub(crate) fn is_unavailable(e: &glib::Error) -> bool {
    matches!(
        e.kind::<DnfError>(),
        Some(DnfError(
            sys::DNF_ERROR_CANNOT_FETCH_SOURCE | sys::DNF_ERROR_REPO_NOT_AVAILABLE
        ))
    )
}
