//! The tests' side of the bus: connecting to the private bus, calls, property
//! reads, and waiting for names and signals with a deadline.

use gio::prelude::*;
use glib::Variant;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

pub const BUS_NAME: &str = "org.projectatomic.rpmostree1";
pub const SYSROOT: &str = "/org/projectatomic/rpmostree1/Sysroot";
pub const IFACE_SYSROOT: &str = "org.projectatomic.rpmostree1.Sysroot";
pub const IFACE_OS: &str = "org.projectatomic.rpmostree1.OS";
pub const IFACE_TXN: &str = "org.projectatomic.rpmostree1.Transaction";
pub const BUSY_ERROR: &str = "org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code26";

pub type Dict = BTreeMap<String, Variant>;

pub fn connect(address: &str) -> gio::DBusConnection {
    gio::DBusConnection::for_address_sync(
        address,
        gio::DBusConnectionFlags::AUTHENTICATION_CLIENT
            | gio::DBusConnectionFlags::MESSAGE_BUS_CONNECTION,
        None,
        gio::Cancellable::NONE,
    )
    .expect("connecting to the private bus")
}

/// Iterates the thread-default main context until `cond` holds or `timeout` passes.
/// Signals wake it at once; conditions that poll (a property read) are checked
/// again at least every 20 ms.
pub fn iterate_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let ctx = glib::MainContext::ref_thread_default();
    let deadline = Instant::now() + timeout;
    loop {
        while ctx.pending() {
            ctx.iteration(false);
        }
        if cond() {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let wait = left.min(Duration::from_millis(20));
        let wake = glib::timeout_source_new(wait, None, glib::Priority::DEFAULT, || {
            glib::ControlFlow::Break
        });
        wake.attach(Some(&ctx));
        ctx.iteration(true);
        wake.destroy();
    }
}

pub fn call(
    conn: &gio::DBusConnection,
    path: &str,
    iface: &str,
    method: &str,
    args: Option<&Variant>,
) -> Result<Variant, glib::Error> {
    conn.call_sync(
        Some(BUS_NAME),
        path,
        iface,
        method,
        args,
        None,
        gio::DBusCallFlags::NONE,
        120_000,
        gio::Cancellable::NONE,
    )
}

/// The D-Bus error name of a failed call.
pub fn error_name(e: &glib::Error) -> String {
    gio::DBusError::remote_error(e)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// The message of a failed call without GDBus's prefix.
pub fn error_message(e: &glib::Error) -> String {
    let mut e = e.clone();
    gio::DBusError::strip_remote_error(&mut e);
    e.message().to_string()
}

pub fn get_all(conn: &gio::DBusConnection, path: &str, iface: &str) -> Dict {
    let r = call(
        conn,
        path,
        "org.freedesktop.DBus.Properties",
        "GetAll",
        Some(&(iface,).to_variant()),
    )
    .unwrap_or_else(|e| panic!("GetAll({path}, {iface}): {e}"));
    r.child_value(0).get::<Dict>().expect("a{sv}")
}

pub fn name_has_owner(conn: &gio::DBusConnection, name: &str) -> bool {
    conn.call_sync(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "NameHasOwner",
        Some(&(name,).to_variant()),
        None,
        gio::DBusCallFlags::NONE,
        -1,
        gio::Cancellable::NONE,
    )
    .ok()
    .and_then(|r| r.child_value(0).get::<bool>())
    .unwrap_or(false)
}

/// Waits until `name` is owned (`owned`) or unowned, watching NameOwnerChanged.
pub fn wait_name(conn: &gio::DBusConnection, name: &str, owned: bool, timeout: Duration) -> bool {
    let changed = Rc::new(RefCell::new(None::<bool>));
    let c = changed.clone();
    let sub = conn.signal_subscribe(
        Some("org.freedesktop.DBus"),
        Some("org.freedesktop.DBus"),
        Some("NameOwnerChanged"),
        Some("/org/freedesktop/DBus"),
        Some(name),
        gio::DBusSignalFlags::NONE,
        move |_, _, _, _, _, args| {
            let new = args.child_value(2).str().unwrap_or_default().to_string();
            *c.borrow_mut() = Some(!new.is_empty());
        },
    );
    let ok = name_has_owner(conn, name) == owned
        || iterate_until(timeout, || {
            *changed.borrow() == Some(owned) || name_has_owner(conn, name) == owned
        });
    conn.signal_unsubscribe(sub);
    ok
}

/// Collects signals matching the arguments while it lives.
pub struct SignalLog {
    conn: gio::DBusConnection,
    id: Option<gio::SignalSubscriptionId>,
    pub seen: Rc<RefCell<Vec<(String, String, Variant)>>>,
}

impl SignalLog {
    /// Records (path, member, args) of signals from the daemon on `iface`.
    pub fn new(conn: &gio::DBusConnection, iface: Option<&str>) -> Self {
        let seen: Rc<RefCell<Vec<(String, String, Variant)>>> = Rc::default();
        let s = seen.clone();
        let id = conn.signal_subscribe(
            Some(BUS_NAME),
            iface,
            None,
            None,
            None,
            gio::DBusSignalFlags::NONE,
            move |_, _, path, _, member, args| {
                s.borrow_mut()
                    .push((path.to_string(), member.to_string(), args.clone()))
            },
        );
        Self {
            conn: conn.clone(),
            id: Some(id),
            seen,
        }
    }

    /// Waits until a recorded signal satisfies `pred`.
    pub fn wait(&self, timeout: Duration, pred: impl Fn(&str, &str, &Variant) -> bool) -> bool {
        iterate_until(timeout, || {
            self.seen.borrow().iter().any(|(p, m, a)| pred(p, m, a))
        })
    }
}

impl Drop for SignalLog {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.conn.signal_unsubscribe(id);
        }
    }
}

pub fn dict_str(d: &Dict, k: &str) -> Option<String> {
    d.get(k).and_then(|v| v.str().map(String::from))
}

/// The pid of the process owning bus name `name`.
pub fn bus_name_pid(conn: &gio::DBusConnection, name: &str) -> i32 {
    conn.call_sync(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "GetConnectionUnixProcessID",
        Some(&(name,).to_variant()),
        glib::VariantTy::new("(u)").ok(),
        gio::DBusCallFlags::NONE,
        -1,
        gio::Cancellable::NONE,
    )
    .unwrap_or_else(|e| panic!("the pid of {name}: {e}"))
    .child_value(0)
    .get::<u32>()
    .expect("a pid") as i32
}
