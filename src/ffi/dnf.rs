//! A safe layer over the parts of libdnf the rpm-md helper uses
//! (`crates/dnf-sys`). Only the helper process `rpm-ostreed-dnf` calls it:
//! the daemon and the client never load libdnf.
//!
//! The GObjects (`DnfContext`, `DnfRepo`, `DnfState`, `DnfSack`,
//! `DnfPackage`) are held as `glib::Object`s, so references are counted by
//! GObject. Borrowed C strings are copied out at once.

use dnf_sys as sys;
use glib::prelude::*;
use glib::translate::{FromGlibPtrFull, FromGlibPtrNone, from_glib_full};
use std::ffi::{CStr, CString, c_char};
use std::path::Path;

/// A C string from a Rust one; an interior NUL (never in paths and names
/// the helper is given) becomes an empty string.
fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).unwrap_or_default()
}

/// Copies a borrowed, possibly NULL, C string.
fn copied(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: libdnf returns NUL-terminated strings that live at least as long
    // as the object they were read from, which the caller holds.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The result of a call that reports failure through a `GError`.
fn checked(ok: glib::ffi::gboolean, error: *mut glib::ffi::GError) -> Result<(), glib::Error> {
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
fn objects(array: *mut glib::ffi::GPtrArray) -> Vec<glib::Object> {
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

    pub(crate) fn sack(&self) -> Option<Sack> {
        // SAFETY: transfer none; a new reference is taken.
        let sack = unsafe { sys::dnf_context_get_sack(self.ptr()) };
        // SAFETY: the sack, when set, is a live GObject.
        (!sack.is_null()).then(|| Sack(unsafe { glib::Object::from_glib_none(sack as *mut _) }))
    }
}

/// `DnfRepo`.
pub(crate) struct Repo(glib::Object);

impl Repo {
    fn ptr(&self) -> *mut sys::DnfRepo {
        self.0.as_ptr() as *mut sys::DnfRepo
    }

    fn text(&self, f: unsafe extern "C" fn(*mut sys::DnfRepo) -> *const c_char) -> String {
        // SAFETY: the getters passed here return strings owned by the repo.
        copied(unsafe { f(self.ptr()) }).unwrap_or_default()
    }

    fn flag(&self, f: unsafe extern "C" fn(*mut sys::DnfRepo) -> glib::ffi::gboolean) -> bool {
        // SAFETY: the predicates passed here only read the repo.
        unsafe { f(self.ptr()) != 0 }
    }

    pub(crate) fn id(&self) -> String {
        self.text(sys::dnf_repo_get_id)
    }
    pub(crate) fn filename(&self) -> String {
        self.text(sys::dnf_repo_get_filename)
    }
    pub(crate) fn is_devel(&self) -> bool {
        self.flag(sys::dnf_repo_is_devel)
    }
    pub(crate) fn is_source(&self) -> bool {
        self.flag(sys::dnf_repo_is_source)
    }
    pub(crate) fn required(&self) -> bool {
        self.flag(sys::dnf_repo_get_required)
    }

    /// `DnfRepoEnabled` bits.
    pub(crate) fn enabled(&self) -> u32 {
        // SAFETY: reads a field.
        unsafe { sys::dnf_repo_get_enabled(self.ptr()) }
    }

    pub(crate) fn set_enabled(&self, bits: u32) {
        // SAFETY: stores a field.
        unsafe { sys::dnf_repo_set_enabled(self.ptr(), bits) }
    }

    /// The `name=` with its variables substituted; `None` without one.
    pub(crate) fn description(&self) -> Option<String> {
        // SAFETY: transfer full: the copy is ours to free.
        let p = unsafe { sys::dnf_repo_get_description(self.ptr()) };
        if p.is_null() {
            return None;
        }
        // SAFETY: p is a NUL-terminated string allocated by GLib.
        Some(unsafe { glib::GString::from_glib_full(p) }.to_string())
    }

    pub(crate) fn timestamp_generated(&self) -> u64 {
        // SAFETY: reads a field.
        unsafe { sys::dnf_repo_get_timestamp_generated(self.ptr()) }
    }

    pub(crate) fn n_solvables(&self) -> u32 {
        // SAFETY: reads a field.
        unsafe { sys::dnf_repo_get_n_solvables(self.ptr()) }
    }

    /// Whether the cached metadata is complete and younger than `max_age` seconds.
    pub(crate) fn check(&self, max_age: u32, state: &State) -> Result<(), glib::Error> {
        let mut error = std::ptr::null_mut();
        // SAFETY: valid repo and state objects, an error out-pointer.
        let ok = unsafe { sys::dnf_repo_check(self.ptr(), max_age, state.ptr(), &mut error) };
        checked(ok, error)
    }

    /// Downloads the metadata again.
    pub(crate) fn update(&self, flags: u32, state: &State) -> Result<(), glib::Error> {
        let mut error = std::ptr::null_mut();
        // SAFETY: valid repo and state objects, an error out-pointer.
        let ok = unsafe { sys::dnf_repo_update(self.ptr(), flags, state.ptr(), &mut error) };
        checked(ok, error)
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

/// `DnfSack`: the loaded packages.
pub(crate) struct Sack(glib::Object);

impl Sack {
    fn ptr(&self) -> *mut sys::DnfSack {
        self.0.as_ptr() as *mut sys::DnfSack
    }
}

/// `HyQuery` over a sack (which it keeps alive).
pub(crate) struct Query {
    q: sys::HyQuery,
    _sack: glib::Object,
}

impl Query {
    pub(crate) fn new(sack: &Sack) -> Self {
        // SAFETY: a valid sack; the query is freed in Drop, before the sack
        // reference it holds is dropped.
        let q = unsafe { sys::hy_query_create(sack.ptr()) };
        Self {
            q,
            _sack: sack.0.clone(),
        }
    }

    pub(crate) fn clear(&mut self) {
        // SAFETY: a valid query.
        unsafe { sys::hy_query_clear(self.q) }
    }

    /// One filter; the filters of a query are AND-ed. Nonzero: refused.
    pub(crate) fn filter(&mut self, key: i32, cmp: i32, value: &str) -> i32 {
        let v = cstr(value);
        // SAFETY: a valid query; libdnf copies the match string.
        unsafe { sys::hy_query_filter(self.q, key, cmp, v.as_ptr()) }
    }

    /// One filter matching any of `values`.
    pub(crate) fn filter_in(&mut self, key: i32, cmp: i32, values: &[&str]) -> i32 {
        let owned: Vec<CString> = values.iter().map(|v| cstr(v)).collect();
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        // SAFETY: a valid query and a NULL-terminated array libdnf copies.
        unsafe { sys::hy_query_filter_in(self.q, key, cmp, ptrs.as_ptr()) }
    }

    /// Packages providing any of `reldeps` (`name [op evr]`). Nonzero: a
    /// reldep did not parse, and no filter was added.
    pub(crate) fn filter_provides_in(&mut self, reldeps: &[&str]) -> i32 {
        let owned: Vec<CString> = reldeps.iter().map(|v| cstr(v)).collect();
        let mut ptrs: Vec<*mut c_char> = owned.iter().map(|c| c.as_ptr() as *mut c_char).collect();
        ptrs.push(std::ptr::null_mut());
        // SAFETY: a valid query and a NULL-terminated array; libdnf only reads it.
        unsafe { sys::hy_query_filter_provides_in(self.q, ptrs.as_mut_ptr()) }
    }

    pub(crate) fn latest_per_arch(&mut self) {
        // SAFETY: a valid query.
        unsafe { sys::hy_query_filter_latest_per_arch(self.q, 1) }
    }

    /// The matching packages, in solvable order.
    pub(crate) fn run(&mut self) -> Vec<Package> {
        // SAFETY: a valid query; the array is new (transfer full) and its
        // elements stay alive through the references taken before it is freed.
        unsafe {
            let array = sys::hy_query_run(self.q);
            let pkgs = objects(array).into_iter().map(Package).collect();
            if !array.is_null() {
                glib::ffi::g_ptr_array_unref(array);
            }
            pkgs
        }
    }
}

impl Drop for Query {
    fn drop(&mut self) {
        // SAFETY: the query was created by hy_query_create and is freed once.
        unsafe { sys::hy_query_free(self.q) }
    }
}

/// `DnfPackage`.
pub(crate) struct Package(glib::Object);

impl Package {
    fn ptr(&self) -> *mut sys::DnfPackage {
        self.0.as_ptr() as *mut sys::DnfPackage
    }

    fn text(
        &self,
        f: unsafe extern "C" fn(*mut sys::DnfPackage) -> *const c_char,
    ) -> Option<String> {
        // SAFETY: the getters passed here return strings owned by the package (or its pool).
        copied(unsafe { f(self.ptr()) })
    }

    pub(crate) fn name(&self) -> String {
        self.text(sys::dnf_package_get_name).unwrap_or_default()
    }
    pub(crate) fn version(&self) -> String {
        self.text(sys::dnf_package_get_version).unwrap_or_default()
    }
    pub(crate) fn release(&self) -> String {
        self.text(sys::dnf_package_get_release).unwrap_or_default()
    }
    pub(crate) fn arch(&self) -> String {
        self.text(sys::dnf_package_get_arch).unwrap_or_default()
    }
    pub(crate) fn evr(&self) -> String {
        self.text(sys::dnf_package_get_evr).unwrap_or_default()
    }
    pub(crate) fn nevra(&self) -> String {
        self.text(sys::dnf_package_get_nevra).unwrap_or_default()
    }
    pub(crate) fn reponame(&self) -> String {
        self.text(sys::dnf_package_get_reponame).unwrap_or_default()
    }
    pub(crate) fn summary(&self) -> Option<String> {
        self.text(sys::dnf_package_get_summary)
    }
    pub(crate) fn epoch(&self) -> u64 {
        // SAFETY: reads a field.
        unsafe { sys::dnf_package_get_epoch(self.ptr()) }
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
