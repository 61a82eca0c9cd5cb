//! `RpmOstreePackage`: a GObject holding one package of a commit, with its
//! name, EVR, arch and NEVRA kept as C strings for the getters to lend, and
//! `rpm_ostree_package_cmp`, rpm's order of packages.

use glib::prelude::*;
use glib::subclass::prelude::*;
use glib::translate::*;
use std::cmp::Ordering;
use std::ffi::{CString, c_char, c_int};

use crate::ffi_util::precondition_failed;

mod imp {
    use super::*;

    /// What a package object holds, set once when it is made.
    pub struct Fields {
        pub pkg: rpmostree_pkglist::Package,
        pub name: CString,
        pub evr: CString,
        pub arch: CString,
        pub nevra: CString,
    }

    #[derive(Default)]
    pub struct Package {
        pub fields: std::cell::OnceCell<Fields>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Package {
        const NAME: &'static str = "RpmOstreePackage";
        type Type = super::Package;
        type ParentType = glib::Object;
    }

    impl ObjectImpl for Package {}
}

glib::wrapper! {
    /// One package of a commit (`RpmOstreePackage` to C).
    pub struct Package(ObjectSubclass<imp::Package>);
}

/// A C string of `s`; rpm's strings never hold NUL, so none is lost.
fn c_string(s: String) -> CString {
    CString::new(s).unwrap_or_default()
}

impl Package {
    pub(crate) fn new(pkg: rpmostree_pkglist::Package) -> Self {
        let obj: Self = glib::Object::new();
        let fields = imp::Fields {
            name: c_string(pkg.name.clone()),
            evr: c_string(pkg.evr()),
            arch: c_string(pkg.arch.clone()),
            nevra: c_string(pkg.nevra()),
            pkg,
        };
        let _ = obj.imp().fields.set(fields);
        obj
    }

    fn fields(&self) -> &imp::Fields {
        self.imp().fields.get().expect("set when made")
    }

    /// The package this object holds.
    pub(crate) fn package(&self) -> &rpmostree_pkglist::Package {
        &self.fields().pkg
    }
}

/// The C instance type.
type Instance = <Package as glib::object::ObjectType>::GlibType;

/// The package `p` points to, if it points to one.
///
/// # Safety
/// `p` is NULL or points to a live GTypeInstance.
unsafe fn package_arg(
    p: *mut Instance,
    function: &str,
) -> Option<glib::translate::Borrowed<Package>> {
    if p.is_null() {
        precondition_failed(function, "RPM_OSTREE_IS_PACKAGE (p)");
        return None;
    }
    // SAFETY: `p` is a live instance (caller's contract); the check only reads its class.
    let ok = unsafe {
        glib::gobject_ffi::g_type_check_instance_is_a(p.cast(), Package::static_type().into_glib())
    } != glib::ffi::GFALSE;
    if !ok {
        precondition_failed(function, "RPM_OSTREE_IS_PACKAGE (p)");
        return None;
    }
    // SAFETY: `p` is a live RpmOstreePackage; the borrow does not outlive the call.
    Some(unsafe { from_glib_borrow(p) })
}

#[unsafe(no_mangle)]
pub extern "C" fn rpm_ostree_package_get_type() -> glib::ffi::GType {
    Package::static_type().into_glib()
}

/// A getter: the C string `field` of the package `p`, which owns it.
///
/// # Safety
/// `p` is NULL or points to a live GTypeInstance.
unsafe fn lend(
    p: *mut Instance,
    function: &str,
    field: fn(&imp::Fields) -> &CString,
) -> *const c_char {
    // SAFETY: forwarded from the caller.
    match unsafe { package_arg(p, function) } {
        // The string lives in the object, which the caller holds a reference to.
        Some(pkg) => field(pkg.fields()).as_ptr(),
        None => std::ptr::null(),
    }
}

/// # Safety
/// `p` is NULL or points to a live GTypeInstance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rpm_ostree_package_get_nevra(p: *mut Instance) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { lend(p, "rpm_ostree_package_get_nevra", |f| &f.nevra) }
}

/// # Safety
/// `p` is NULL or points to a live GTypeInstance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rpm_ostree_package_get_name(p: *mut Instance) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { lend(p, "rpm_ostree_package_get_name", |f| &f.name) }
}

/// # Safety
/// `p` is NULL or points to a live GTypeInstance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rpm_ostree_package_get_evr(p: *mut Instance) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { lend(p, "rpm_ostree_package_get_evr", |f| &f.evr) }
}

/// # Safety
/// `p` is NULL or points to a live GTypeInstance.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rpm_ostree_package_get_arch(p: *mut Instance) -> *const c_char {
    // SAFETY: forwarded from the caller.
    unsafe { lend(p, "rpm_ostree_package_get_arch", |f| &f.arch) }
}

/// # Safety
/// `p1` and `p2` are NULL or point to live GTypeInstances.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rpm_ostree_package_cmp(p1: *mut Instance, p2: *mut Instance) -> c_int {
    const F: &str = "rpm_ostree_package_cmp";
    // SAFETY: forwarded from the caller.
    let (Some(a), Some(b)) = (unsafe { package_arg(p1, F) }, unsafe { package_arg(p2, F) }) else {
        return 0;
    };
    match a.package().cmp_list(b.package()) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}
