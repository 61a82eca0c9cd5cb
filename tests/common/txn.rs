//! A transaction client in the test process (same PID namespace as an offline
//! daemon): what GNOME Software does, with every step under the test's control.

use gio::prelude::*;
use glib::Variant;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::bus::{BUS_NAME, IFACE_TXN, iterate_until};

/// Calls a transaction method on the OS object; returns the address.
pub fn start_call(
    conn: &gio::DBusConnection,
    path: &str,
    method: &str,
    args: &Variant,
) -> Result<String, glib::Error> {
    let r = conn.call_sync(
        Some(BUS_NAME),
        path,
        "org.projectatomic.rpmostree1.OS",
        method,
        Some(args),
        None,
        gio::DBusCallFlags::NONE,
        120_000,
        gio::Cancellable::NONE,
    )?;
    // (s), or (bs) for AutomaticUpdateTrigger.
    Ok((0..r.n_children())
        .filter_map(|i| r.child_value(i).str().map(String::from))
        .find(|s| s.starts_with("unix:"))
        .unwrap_or_default())
}

/// A peer connection to a transaction, recording its signals.
pub struct Txn {
    pub peer: gio::DBusConnection,
    proxy: gio::DBusProxy,
    handler: Option<glib::SignalHandlerId>,
    pub events: Rc<RefCell<Vec<(String, Variant)>>>,
}

impl Drop for Txn {
    fn drop(&mut self) {
        // Here, on the test's thread: the proxy may be finalized in GDBus's
        // thread, which must not free the thread-bound handler.
        if let Some(h) = self.handler.take() {
            self.proxy.disconnect(h);
        }
    }
}

impl Txn {
    pub fn connect(address: &str) -> Result<Txn, glib::Error> {
        let peer = gio::DBusConnection::for_address_sync(
            address,
            gio::DBusConnectionFlags::AUTHENTICATION_CLIENT,
            None,
            gio::Cancellable::NONE,
        )?;
        let proxy = gio::DBusProxy::new_sync(
            &peer,
            gio::DBusProxyFlags::DO_NOT_AUTO_START,
            None,
            None,
            "/",
            IFACE_TXN,
            gio::Cancellable::NONE,
        )?;
        let events: Rc<RefCell<Vec<(String, Variant)>>> = Rc::default();
        let e = glib::thread_guard::ThreadGuard::new(events.clone());
        let handler = proxy.connect_g_signal(None, move |_, _, name, args| {
            e.get_ref()
                .borrow_mut()
                .push((name.to_string(), args.clone()));
        });
        Ok(Txn {
            peer,
            proxy,
            handler: Some(handler),
            events,
        })
    }

    fn call(&self, method: &str) -> Result<Variant, glib::Error> {
        self.proxy.call_sync(
            method,
            None,
            gio::DBusCallFlags::NONE,
            60_000,
            gio::Cancellable::NONE,
        )
    }

    pub fn start(&self) -> Result<bool, glib::Error> {
        self.call("Start")
            .map(|r| r.child_value(0).get::<bool>().unwrap_or(false))
    }

    pub fn cancel(&self) -> Result<(), glib::Error> {
        self.call("Cancel").map(|_| ())
    }

    pub fn property(&self, name: &str) -> String {
        self.proxy
            .cached_property(name)
            .and_then(|v| v.str().map(String::from))
            .unwrap_or_default()
    }

    /// Waits for `Finished`; returns (success, message).
    /// Cancels the transaction and checks that it finishes, failed and
    /// saying so, within 5 s (what every phase must meet).
    pub fn cancel_within_5s(&self) {
        let t0 = std::time::Instant::now();
        self.cancel().unwrap();
        let (ok, msg) = self
            .wait_finished(Duration::from_secs(5))
            .expect("Finished within 5 s");
        assert!(!ok && msg.contains("cancel"), "{msg}");
        assert!(t0.elapsed() < Duration::from_secs(5));
    }

    pub fn wait_finished(&self, timeout: Duration) -> Option<(bool, String)> {
        let finished = || {
            self.events
                .borrow()
                .iter()
                .find(|(n, _)| n == "Finished")
                .map(|(_, a)| {
                    (
                        a.child_value(0).get::<bool>().unwrap_or(false),
                        a.child_value(1).str().unwrap_or_default().to_string(),
                    )
                })
        };
        iterate_until(timeout, || finished().is_some());
        finished()
    }

    /// The recorded signals named `name`.
    pub fn signals(&self, name: &str) -> Vec<Variant> {
        self.events
            .borrow()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
            .collect()
    }

    pub fn close(&self) {
        let _ = self.peer.close_sync(gio::Cancellable::NONE);
    }
}
