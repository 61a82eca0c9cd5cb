//! `rpm-ostree cancel`: ask the daemon to cancel the active transaction and wait
//! until it is gone.

use anyhow::{Result, anyhow};
use std::cell::Cell;
use std::rc::Rc;

use super::Context;
use crate::client::Exit;
use crate::client::cli::SimpleArgs;
use crate::client::connection::{self, clean_error};
use crate::names;

fn active_address(client: &connection::Client) -> Result<String> {
    Ok(client
        .sysroot_props()?
        .get("ActiveTransactionPath")
        .and_then(|v| v.str().map(String::from))
        .unwrap_or_default())
}

pub(crate) fn run(a: SimpleArgs, _ctx: &Context) -> Result<Exit> {
    let client = connection::connect(&a.daemon, None)?;
    let address = active_address(&client)?;
    if address.is_empty() {
        println!("No active transaction.");
        return Ok(Exit::Ok);
    }
    // Notice the transaction going away while we talk to it.
    let gone = Rc::new(Cell::new(false));
    let sub = {
        let gone = gone.clone();
        client.bus.signal_subscribe(
            Some(names::BUS_NAME),
            Some(names::IFACE_PROPERTIES),
            Some("PropertiesChanged"),
            Some(names::SYSROOT_PATH),
            None,
            gio::DBusSignalFlags::NONE,
            move |_, _, _, _, _, args| {
                let changed = glib::VariantDict::new(Some(&args.child_value(1)));
                if changed
                    .lookup::<String>("ActiveTransactionPath")
                    .ok()
                    .flatten()
                    .as_deref()
                    == Some("")
                {
                    gone.set(true);
                }
            },
        )
    };
    let peer =
        connection::connect_transaction(&address).map_err(|e| anyhow!("{}", clean_error(&e)))?;
    let title = connection::transaction_property(&peer, "Title");
    println!("Cancelling transaction: {title}");
    peer.call_sync(
        None,
        "/",
        names::IFACE_TRANSACTION,
        "Cancel",
        None,
        None,
        gio::DBusCallFlags::NONE,
        -1,
        gio::Cancellable::NONE,
    )
    .map_err(|e| anyhow!("{}", clean_error(&e)))?;
    // Leave, so that the daemon can tear the transaction down.
    let _ = peer.close_sync(gio::Cancellable::NONE);
    let ctx = glib::MainContext::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !gone.get() && std::time::Instant::now() < deadline {
        if active_address(&client)?.is_empty() {
            break;
        }
        // Wakes up on the PropertiesChanged signal (or the timeout source).
        let timeout = glib::timeout_source_new(
            std::time::Duration::from_millis(500),
            None,
            glib::Priority::DEFAULT,
            || glib::ControlFlow::Break,
        );
        timeout.attach(Some(&ctx));
        ctx.iteration(true);
        timeout.destroy();
    }
    client.bus.signal_unsubscribe(sub);
    println!("Cancelled.");
    Ok(Exit::Ok)
}
