//! The package sack, queries over it, the packages, and the goal.

use dnf_sys as sys;
use glib::prelude::*;
use glib::translate::FromGlibPtrFull;
use std::ffi::{CString, c_char};

use super::{checked, copied, cstr, objects};

/// `DnfSack`: the loaded packages.
pub(crate) struct Sack(pub(super) glib::Object);

impl Sack {
    fn ptr(&self) -> *mut sys::DnfSack {
        self.0.as_ptr() as *mut sys::DnfSack
    }

    /// Adds the RPM file at `path` (a header is enough) to the
    /// `@commandline` repository; `None` if it is not a readable RPM.
    pub(crate) fn add_cmdline_package(&self, path: &std::path::Path) -> Option<Package> {
        let p = super::cpath(path);
        // SAFETY: a valid sack; libdnf copies the path; the package it
        // returns is ours (transfer full), or NULL.
        let pkg = unsafe { sys::dnf_sack_add_cmdline_package(self.ptr(), p.as_ptr()) };
        // SAFETY: a new DnfPackage GObject we own, when not NULL.
        (!pkg.is_null()).then(|| Package(unsafe { glib::Object::from_glib_full(pkg as *mut _) }))
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
pub(crate) struct Package(pub(super) glib::Object);

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
    pub(crate) fn location(&self) -> String {
        self.text(sys::dnf_package_get_location).unwrap_or_default()
    }
    pub(crate) fn download_size(&self) -> u64 {
        // SAFETY: reads a field.
        unsafe { sys::dnf_package_get_downloadsize(self.ptr()) }
    }

    /// The checksum the metadata gives for the package file, as
    /// `<type>:<hex>` (rpm-ostree's `repodata_checksum`).
    pub(crate) fn checksum(&self) -> Option<String> {
        let mut kind = 0;
        // SAFETY: the returned bytes belong to the package's pool and are
        // copied out by hy_chksum_str (a new string we free); the name is static.
        unsafe {
            let raw = sys::dnf_package_get_chksum(self.ptr(), &mut kind);
            if raw.is_null() {
                return None;
            }
            let name = copied(sys::hy_chksum_name(kind))?;
            let hex = sys::hy_chksum_str(raw, kind);
            if hex.is_null() {
                return None;
            }
            let hex = glib::GString::from_glib_full(hex);
            Some(format!("{name}:{hex}"))
        }
    }
}

/// The context's goal: what to install, what is locked, the solution.
pub(crate) struct Goal {
    pub(super) goal: sys::HyGoal,
    /// The context owning the goal, kept alive.
    pub(super) _ctx: glib::Object,
}

fn packages_of(array: *mut glib::ffi::GPtrArray) -> Vec<Package> {
    let pkgs = objects(array).into_iter().map(Package).collect();
    if !array.is_null() {
        // SAFETY: a new array (transfer container); its elements were
        // referenced by `objects`.
        unsafe { glib::ffi::g_ptr_array_unref(array) };
    }
    pkgs
}

impl Goal {
    /// Keeps `pkg` installed, as it is.
    pub(crate) fn lock(&self, pkg: &Package) -> Result<(), glib::Error> {
        let mut error = std::ptr::null_mut();
        // SAFETY: a valid goal and package; an error out-pointer.
        let rc = unsafe { sys::hy_goal_lock(self.goal, pkg.ptr(), &mut error) };
        checked((rc == 0).into(), error)
    }

    /// Removes `pkg` (an installed package).
    pub(crate) fn erase(&self, pkg: &Package) -> bool {
        // SAFETY: a valid goal and package; the goal keeps its own reference.
        unsafe { sys::hy_goal_erase(self.goal, pkg.ptr()) == 0 }
    }

    /// Installs `pkg` (a package of the sack, e.g. from a file).
    pub(crate) fn install(&self, pkg: &Package) -> bool {
        // SAFETY: a valid goal and package; the goal keeps its own reference.
        unsafe { sys::hy_goal_install(self.goal, pkg.ptr()) == 0 }
    }

    pub(crate) fn depsolve(&self, flags: u32) -> Result<(), glib::Error> {
        let mut error = std::ptr::null_mut();
        // SAFETY: a valid goal; an error out-pointer.
        let ok = unsafe { sys::dnf_goal_depsolve(self.goal, flags, &mut error) };
        checked(ok, error)
    }

    fn list(
        &self,
        f: unsafe extern "C" fn(
            sys::HyGoal,
            *mut *mut glib::ffi::GError,
        ) -> *mut glib::ffi::GPtrArray,
    ) -> Vec<Package> {
        let mut error = std::ptr::null_mut();
        // SAFETY: a solved goal; the lists passed here return new arrays,
        // or NULL with an error (nothing of that kind), which is freed.
        let array = unsafe { f(self.goal, &mut error) };
        if !error.is_null() {
            // SAFETY: we own the error set by the call.
            drop(unsafe { glib::Error::from_glib_full(error) });
        }
        packages_of(array)
    }

    pub(crate) fn installs(&self) -> Vec<Package> {
        self.list(sys::hy_goal_list_installs)
    }
    pub(crate) fn erasures(&self) -> Vec<Package> {
        self.list(sys::hy_goal_list_erasures)
    }
    pub(crate) fn upgrades(&self) -> Vec<Package> {
        self.list(sys::hy_goal_list_upgrades)
    }
    pub(crate) fn downgrades(&self) -> Vec<Package> {
        self.list(sys::hy_goal_list_downgrades)
    }
    pub(crate) fn reinstalls(&self) -> Vec<Package> {
        self.list(sys::hy_goal_list_reinstalls)
    }
    pub(crate) fn obsoleted(&self) -> Vec<Package> {
        self.list(sys::hy_goal_list_obsoleted)
    }
}
