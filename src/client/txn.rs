//! The client side of a transaction (§4.6): connect to its address, subscribe,
//! `Start`, render the progress signals until `Finished`; Ctrl-C asks the daemon
//! to cancel; a daemon that goes away mid-way is reported as such.

use anyhow::{Result, anyhow, bail};
use gio::prelude::*;
use glib::Variant;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::connection::{LONG_TIMEOUT_MS, clean_error};
use super::progress::{Renderer, download_line};
use crate::names;

const BUS_OWNER_CHANGED: &str = "Bus owner changed, aborting. This likely means the daemon crashed; check logs with `journalctl -xe`.";

fn render_signal(r: &mut Renderer, name: &str, args: &Variant) {
    let s = |i: usize| args.child_value(i).str().unwrap_or_default().to_string();
    match name {
        "Message" => r.message(&s(0)),
        "TaskBegin" => r.task_begin(&s(0)),
        "TaskEnd" => r.task_end(&s(0)),
        "PercentProgress" => {
            let pct = args.child_value(1).get::<u32>().unwrap_or(0);
            r.percent(&s(0), pct)
        }
        "DownloadProgress" => {
            let v = |i| args.child_value(i);
            if let (Some(o), Some(m), Some(d), Some(c), Some(t)) = (
                v(1).get::<(u32, u32)>(),
                v(2).get::<(u32, u32, u32)>(),
                v(3).get::<(u32, u32, u32, u64)>(),
                v(4).get::<(u32, u32)>(),
                v(5).get::<(u64, u64)>(),
            ) {
                r.download(download_line(o, m, d, c, t));
            }
        }
        "ProgressEnd" => r.end(),
        _ => {}
    }
}

fn name_owner(bus: &gio::DBusConnection) -> Option<String> {
    bus.call_sync(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "GetNameOwner",
        Some(&(names::BUS_NAME,).to_variant()),
        None,
        gio::DBusCallFlags::NONE,
        -1,
        gio::Cancellable::NONE,
    )
    .ok()
    .and_then(|r| r.child_value(0).str().map(String::from))
}

/// Signal handlers disconnected on drop, here on the main thread: the objects
/// may be finalized later in GDBus's thread, which must not free thread-bound
/// closures (that aborts).
struct Handlers<O: IsA<glib::Object>> {
    obj: O,
    ids: Vec<glib::SignalHandlerId>,
}

impl<O: IsA<glib::Object>> Drop for Handlers<O> {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            self.obj.disconnect(id);
        }
    }
}

/// Runs the transaction at `address` to its end. `bus` (if any) is watched for
/// the daemon leaving.
pub(crate) fn run(bus: Option<&gio::DBusConnection>, address: &str, quiet: bool) -> Result<()> {
    let peer = gio::DBusConnection::for_address_sync(
        address,
        gio::DBusConnectionFlags::AUTHENTICATION_CLIENT,
        None,
        gio::Cancellable::NONE,
    )
    .map_err(|e| anyhow!("Connecting to transaction {address}: {}", clean_error(&e)))?;
    let main_loop = glib::MainLoop::new(None, false);
    let result: Rc<RefCell<Option<Result<(), String>>>> = Rc::default();
    let renderer = Rc::new(RefCell::new(Renderer::new(quiet)));
    let finish = {
        let main_loop = main_loop.clone();
        let result = result.clone();
        move |r: Result<(), String>| {
            result.borrow_mut().get_or_insert(r);
            main_loop.quit();
        }
    };

    // A proxy, not signal_subscribe: signals on a peer connection carry no
    // sender, which gio-rs's signal_subscribe cannot represent.
    let proxy = gio::DBusProxy::new_sync(
        &peer,
        gio::DBusProxyFlags::DO_NOT_AUTO_START,
        None,
        None,
        "/",
        names::IFACE_TRANSACTION,
        gio::Cancellable::NONE,
    )
    .map_err(|e| anyhow!("Connecting to transaction {address}: {}", clean_error(&e)))?;
    let mut proxy_handlers = Handlers {
        obj: proxy.clone(),
        ids: Vec::new(),
    };
    let sub = {
        let renderer = renderer.clone();
        let finish = finish.clone();
        let handler = glib::thread_guard::ThreadGuard::new(move |name: &str, args: &Variant| {
            if name == "Finished" {
                let ok = args.child_value(0).get::<bool>().unwrap_or(false);
                let msg = args.child_value(1).str().unwrap_or_default().to_string();
                finish(if ok { Ok(()) } else { Err(msg) });
            } else {
                render_signal(&mut renderer.borrow_mut(), name, args);
            }
        });
        proxy.connect_g_signal(None, move |_, _, name, args| {
            (handler.get_ref())(name, args)
        })
    };
    proxy_handlers.ids.push(sub);
    let owner_sub = bus.and_then(|bus| {
        let owner = name_owner(bus)?;
        let finish = finish.clone();
        Some(bus.signal_subscribe(
            Some("org.freedesktop.DBus"),
            Some("org.freedesktop.DBus"),
            Some("NameOwnerChanged"),
            Some("/org/freedesktop/DBus"),
            Some(names::BUS_NAME),
            gio::DBusSignalFlags::NONE,
            move |_, _, _, _, _, args| {
                let old = args.child_value(1).str().unwrap_or_default().to_string();
                if old == owner {
                    finish(Err(BUS_OWNER_CHANGED.into()));
                }
            },
        ))
    });
    let interrupted = Rc::new(Cell::new(0u32));
    let sigint = {
        let peer = peer.clone();
        let interrupted = interrupted.clone();
        glib::unix_signal_add_local(libc::SIGINT, move || {
            let n = interrupted.get();
            interrupted.set(n + 1);
            if n == 0 {
                eprintln!("Caught SIGINT, cancelling transaction");
                peer.call(
                    None,
                    "/",
                    names::IFACE_TRANSACTION,
                    "Cancel",
                    None,
                    None,
                    gio::DBusCallFlags::NONE,
                    -1,
                    gio::Cancellable::NONE,
                    |_| {},
                );
            } else {
                eprintln!("Awaiting transaction cancellation...");
            }
            glib::ControlFlow::Continue
        })
    };

    let started = proxy
        .call_sync(
            "Start",
            None,
            gio::DBusCallFlags::NONE,
            LONG_TIMEOUT_MS,
            gio::Cancellable::NONE,
        )
        .map_err(|e| anyhow!("{}", clean_error(&e)))?;
    if started.child_value(0).get::<bool>() == Some(false) {
        let title = proxy
            .cached_property("Title")
            .and_then(|v| v.str().map(String::from))
            .unwrap_or_default();
        renderer
            .borrow_mut()
            .message(&format!("Attaching to existing transaction: {title}"));
    }
    if result.borrow().is_none() {
        // The connection closing before Finished means the daemon went away.
        let finish_tx = glib::thread_guard::ThreadGuard::new(finish.clone());
        let closed = peer
            .connect_closed(move |_, _, _| (finish_tx.get_ref())(Err(BUS_OWNER_CHANGED.into())));
        let _peer_handlers = Handlers {
            obj: peer.clone(),
            ids: vec![closed],
        };
        main_loop.run();
    }
    sigint.remove();
    drop(proxy_handlers);
    if let (Some(bus), Some(id)) = (bus, owner_sub) {
        bus.signal_unsubscribe(id);
    }
    let r = result.borrow_mut().take();
    if matches!(r, Some(Ok(()))) {
        renderer.borrow_mut().end();
    } else {
        renderer.borrow_mut().interrupt();
    }
    drop(renderer);
    match r {
        Some(Ok(())) => Ok(()),
        Some(Err(msg)) => bail!("{msg}"),
        None => bail!("{BUS_OWNER_CHANGED}"),
    }
}
