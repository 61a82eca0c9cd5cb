//! A small binding of libpolkit-gobject-1 on the glib 0.20 types we use
//! everywhere else: the authority, the two subject kinds we need, and the
//! asynchronous authorization check. (The `polkit` crate is built on another
//! glib-rs version whose types do not mix with ours.)
//!
//! All `unsafe` of this module is here, next to the C declarations it relies on.

use glib::translate::{FromGlibPtrFull, ToGlibPtr, from_glib_full};
use std::ffi::{CString, c_char, c_int, c_void};
use std::ptr;

mod ffi {
    use super::*;

    pub type GAsyncReadyCallback = Option<
        unsafe extern "C" fn(
            *mut glib::gobject_ffi::GObject,
            *mut gio::ffi::GAsyncResult,
            *mut c_void,
        ),
    >;

    #[link(name = "polkit-gobject-1")]
    unsafe extern "C" {
        pub fn polkit_authority_get_async(
            cancellable: *mut gio::ffi::GCancellable,
            callback: GAsyncReadyCallback,
            user_data: *mut c_void,
        );
        pub fn polkit_authority_get_finish(
            res: *mut gio::ffi::GAsyncResult,
            error: *mut *mut glib::ffi::GError,
        ) -> *mut glib::gobject_ffi::GObject;
        pub fn polkit_system_bus_name_new(name: *const c_char) -> *mut glib::gobject_ffi::GObject;
        pub fn polkit_unix_process_new_for_owner(
            pid: c_int,
            start_time: u64,
            uid: c_int,
        ) -> *mut glib::gobject_ffi::GObject;
        pub fn polkit_authority_check_authorization(
            authority: *mut glib::gobject_ffi::GObject,
            subject: *mut glib::gobject_ffi::GObject,
            action_id: *const c_char,
            details: *mut glib::gobject_ffi::GObject,
            flags: u32,
            cancellable: *mut gio::ffi::GCancellable,
            callback: GAsyncReadyCallback,
            user_data: *mut c_void,
        );
        pub fn polkit_authority_check_authorization_finish(
            authority: *mut glib::gobject_ffi::GObject,
            res: *mut gio::ffi::GAsyncResult,
            error: *mut *mut glib::ffi::GError,
        ) -> *mut glib::gobject_ffi::GObject;
        pub fn polkit_authorization_result_get_is_authorized(
            result: *mut glib::gobject_ffi::GObject,
        ) -> glib::ffi::gboolean;
        pub fn polkit_authorization_result_get_is_challenge(
            result: *mut glib::gobject_ffi::GObject,
        ) -> glib::ffi::gboolean;
    }
}

const ALLOW_USER_INTERACTION: u32 = 1;

/// `PolkitAuthority`, the connection to polkitd.
#[derive(Clone, Debug)]
pub(crate) struct Authority(glib::Object);

/// Who is asking.
#[derive(Clone, Debug)]
pub(crate) struct Subject(glib::Object);

/// The answer of polkitd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    pub authorized: bool,
    pub challenge: bool,
}

type Callback<T> = Box<dyn FnOnce(Result<T, glib::Error>)>;

impl Subject {
    /// The `system-bus-name` subject of a bus peer (its unique name).
    pub(crate) fn system_bus_name(name: &str) -> Option<Self> {
        let name = CString::new(name).ok()?;
        // SAFETY: `name` is a valid NUL-terminated string for the call; the
        // function returns a new reference (transfer full) to a GObject.
        let obj = unsafe { ffi::polkit_system_bus_name_new(name.as_ptr()) };
        // SAFETY: a non-null new reference, which the wrapper now owns.
        (!obj.is_null()).then(|| Self(unsafe { glib::Object::from_glib_full(obj) }))
    }

    /// A `unix-process` subject: the process `pid` started at `start_time`
    /// (so that a process that got the pid later is not it), owned by `uid`.
    pub(crate) fn unix_process(pid: i32, start_time: u64, uid: u32) -> Option<Self> {
        // SAFETY: plain integer arguments; returns a new reference (transfer full).
        let obj = unsafe { ffi::polkit_unix_process_new_for_owner(pid, start_time, uid as c_int) };
        // SAFETY: a non-null new reference, which the wrapper now owns.
        (!obj.is_null()).then(|| Self(unsafe { glib::Object::from_glib_full(obj) }))
    }
}

unsafe extern "C" fn authority_ready(
    _source: *mut glib::gobject_ffi::GObject,
    res: *mut gio::ffi::GAsyncResult,
    data: *mut c_void,
) {
    // SAFETY: `data` is the Box we leaked in `Authority::get` and is used once.
    let cb: Box<Callback<Authority>> = unsafe { Box::from_raw(data.cast()) };
    let mut error = ptr::null_mut();
    // SAFETY: `res` is the GAsyncResult GIO passes to this callback.
    let obj = unsafe { ffi::polkit_authority_get_finish(res, &mut error) };
    let result = if obj.is_null() {
        // SAFETY: on failure the function sets a new GError we now own.
        Err(unsafe { from_glib_full(error) })
    } else {
        // SAFETY: the authority is returned with a new reference.
        Ok(Authority(unsafe { glib::Object::from_glib_full(obj) }))
    };
    cb(result)
}

struct CheckData {
    authority: Authority,
    cb: Callback<Decision>,
}

unsafe extern "C" fn check_ready(
    _source: *mut glib::gobject_ffi::GObject,
    res: *mut gio::ffi::GAsyncResult,
    data: *mut c_void,
) {
    // SAFETY: `data` is the Box leaked in `Authority::check`, used exactly once.
    let data: Box<CheckData> = unsafe { Box::from_raw(data.cast()) };
    let mut error = ptr::null_mut();
    let authority: *mut glib::gobject_ffi::GObject = data.authority.0.to_glib_none().0;
    // SAFETY: `authority` is alive (we hold a reference); `res` comes from GIO.
    let result =
        unsafe { ffi::polkit_authority_check_authorization_finish(authority, res, &mut error) };
    let decision = if result.is_null() {
        // SAFETY: on failure a new GError is set, owned by us.
        Err(unsafe { from_glib_full(error) })
    } else {
        // SAFETY: `result` is a valid PolkitAuthorizationResult (transfer full),
        // released when `owned` drops.
        let owned: glib::Object = unsafe { glib::Object::from_glib_full(result) };
        let p: *mut glib::gobject_ffi::GObject = owned.to_glib_none().0;
        // SAFETY: `p` is a live PolkitAuthorizationResult for both getters.
        let (authorized, challenge) = unsafe {
            (
                ffi::polkit_authorization_result_get_is_authorized(p) != 0,
                ffi::polkit_authorization_result_get_is_challenge(p) != 0,
            )
        };
        Ok(Decision {
            authorized,
            challenge,
        })
    };
    (data.cb)(decision)
}

impl Authority {
    /// Gets the authority asynchronously; `cb` runs on the calling thread's
    /// thread-default main context.
    pub(crate) fn get(cb: impl FnOnce(Result<Authority, glib::Error>) + 'static) {
        let data: Box<Callback<Authority>> = Box::new(Box::new(cb));
        // SAFETY: the callback gets back exactly this pointer once.
        unsafe {
            ffi::polkit_authority_get_async(
                ptr::null_mut(),
                Some(authority_ready),
                Box::into_raw(data).cast(),
            )
        }
    }

    /// Asks polkitd whether `subject` may do `action_id`, asynchronously.
    pub(crate) fn check(
        &self,
        subject: &Subject,
        action_id: &str,
        interactive: bool,
        cb: impl FnOnce(Result<Decision, glib::Error>) + 'static,
    ) {
        let Ok(action) = CString::new(action_id) else {
            return cb(Err(glib::Error::new(
                gio::IOErrorEnum::InvalidArgument,
                "action id contains NUL",
            )));
        };
        let flags = if interactive {
            ALLOW_USER_INTERACTION
        } else {
            0
        };
        let data = Box::new(CheckData {
            authority: self.clone(),
            cb: Box::new(cb),
        });
        let authority: *mut glib::gobject_ffi::GObject = self.0.to_glib_none().0;
        let subject: *mut glib::gobject_ffi::GObject = subject.0.to_glib_none().0;
        // SAFETY: all pointers are valid for the call (libpolkit takes its own
        // references); `action` is copied; the callback receives `data` once.
        unsafe {
            ffi::polkit_authority_check_authorization(
                authority,
                subject,
                action.as_ptr(),
                ptr::null_mut(),
                flags,
                ptr::null_mut(),
                Some(check_ready),
                Box::into_raw(data).cast(),
            )
        }
    }
}
