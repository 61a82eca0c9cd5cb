//! `DnfRepo`: one configured repository.

use dnf_sys as sys;
use glib::prelude::*;
use glib::translate::FromGlibPtrFull;
use std::ffi::c_char;
use std::path::Path;

use super::{Package, State, checked, copied, cpath};

/// `DnfRepo`.
pub(crate) struct Repo(pub(super) glib::Object);

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
    /// `gpgcheck`: packages must be signed by the repository's keys.
    pub(crate) fn gpgcheck(&self) -> bool {
        self.flag(sys::dnf_repo_get_gpgcheck)
    }

    /// The repository's `gpgkey=` URLs.
    pub(crate) fn public_keys(&self) -> Vec<String> {
        // SAFETY: transfer full: a NULL-terminated array of strings we free.
        unsafe {
            let keys = sys::dnf_repo_get_public_keys(self.ptr());
            if keys.is_null() {
                return Vec::new();
            }
            let mut out = Vec::new();
            let mut p = keys;
            while !(*p).is_null() {
                out.extend(copied(*p));
                p = p.add(1);
            }
            glib::ffi::g_strfreev(keys);
            out
        }
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

    /// Downloads `pkgs` (of this repository) into `dir`, checking each
    /// against the checksum of the metadata.
    pub(crate) fn download(
        &self,
        pkgs: &[&Package],
        dir: &Path,
        state: &State,
    ) -> Result<(), glib::Error> {
        let d = cpath(dir);
        let mut error = std::ptr::null_mut();
        // SAFETY: a new array holding borrowed package pointers, which stay
        // alive (the caller holds them) until it is freed here; libdnf only
        // reads the array.
        unsafe {
            let array = glib::ffi::g_ptr_array_new();
            for p in pkgs {
                glib::ffi::g_ptr_array_add(array, p.0.as_ptr() as glib::ffi::gpointer);
            }
            let ok = sys::dnf_repo_download_packages(
                self.ptr(),
                array,
                d.as_ptr(),
                state.ptr(),
                &mut error,
            );
            glib::ffi::g_ptr_array_unref(array);
            checked(ok, error)
        }
    }
}
