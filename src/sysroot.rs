//! The `Sysroot` object: its properties, and `GetOS`, `Reload`, `ReloadConfig`,
//! `RegisterClient`, `UnregisterClient`.

use gio::prelude::*;
use glib::variant::ObjectPath;
use std::rc::Rc;

use crate::authz::Access;
use crate::bus::{MethodCall, Props};
use crate::client_registry::{self, ClientInfo};
use crate::error::BusError;
use crate::gate::{self, Request, Row, answer};
use crate::names;
use crate::options::{self, OptionSpec};
use crate::state::Daemon;

pub(crate) fn object_path(path: &str) -> ObjectPath {
    ObjectPath::try_from(path.to_string())
        .unwrap_or_else(|_| ObjectPath::try_from("/".to_string()).expect("'/' is an object path"))
}

/// The value of `Booted`: the booted OS's object path, or `/`.
fn booted_path(daemon: &Daemon) -> ObjectPath {
    let view = daemon.view.borrow();
    let p = view
        .status
        .booted_osname
        .as_deref()
        .and_then(names::os_object_path)
        .unwrap_or_else(|| "/".into());
    object_path(&p)
}

/// What `GetOS("")` answers: the booted OS, or on an offline sysroot the OS of
/// the default deployment (decision 6), or `/` when there is none.
fn default_os_path(daemon: &Daemon) -> ObjectPath {
    let view = daemon.view.borrow();
    let name = view.status.booted_osname.clone().or_else(|| {
        view.status
            .deployments
            .first()
            .and_then(|d| d.get("osname"))
            .and_then(|v| v.str().map(String::from))
    });
    let p = name
        .as_deref()
        .and_then(names::os_object_path)
        .unwrap_or_else(|| "/".into());
    object_path(&p)
}

fn properties(daemon: &Daemon) -> Props {
    let mut p = Props::new();
    p.insert("Booted".into(), booted_path(daemon).to_variant());
    p.insert(
        "Path".into(),
        daemon.sysroot_path.to_string_lossy().to_variant(),
    );
    let (active, address) = daemon.txns.active_property_values();
    p.insert("ActiveTransaction".into(), active);
    p.insert("ActiveTransactionPath".into(), address.to_variant());
    p.insert(
        "AutomaticUpdatePolicy".into(),
        daemon
            .config
            .borrow()
            .automatic_update_policy
            .as_str()
            .to_variant(),
    );
    p.insert(
        "Deployments".into(),
        daemon.view.borrow().status.deployments.to_variant(),
    );
    p
}

pub(crate) fn export(daemon: &Rc<Daemon>) -> anyhow::Result<()> {
    let weak = Rc::downgrade(daemon);
    daemon.store.export(
        names::SYSROOT_PATH,
        vec![(names::IFACE_SYSROOT, properties(daemon))],
        Rc::new(move |call| {
            if let Some(d) = weak.upgrade() {
                gate::dispatch(&d, "Sysroot", ROWS, &(), call)
            }
        }),
    )
}

/// Publishes every Sysroot property (only changed ones are announced).
pub(crate) fn update_properties(daemon: &Rc<Daemon>) {
    for (name, value) in properties(daemon) {
        daemon
            .store
            .set(names::SYSROOT_PATH, names::IFACE_SYSROOT, &name, value);
    }
}

/// The Sysroot method table: name, who may call it (§6.3), parser.
#[rustfmt::skip]
const ROWS: &[Row<()>] = &[
    Row { method: "GetOS", access: Access::Anyone, parse: get_os },
    Row { method: "Reload", access: Access::Anyone, parse: reload },
    Row { method: "ReloadConfig", access: Access::Actions(&["reload-daemon"]), parse: reload_config },
    Row { method: "RegisterClient", access: Access::ClientManagement, parse: register_client },
    Row { method: "UnregisterClient", access: Access::ClientManagement, parse: unregister_client },
];

fn get_os(_: &(), call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    let (name,): (String,) = call.params.get().unwrap_or_default();
    Ok(answer(move |daemon| {
        let path = if name.is_empty() {
            default_os_path(daemon)
        } else {
            let known = daemon.view.borrow().status.oses.contains_key(&name);
            match names::os_object_path(&name) {
                Some(p) if known => object_path(&p),
                _ => return Err(BusError::not_found(format!("OS name \"{name}\" not found"))),
            }
        };
        Ok((path,).to_variant())
    }))
}

fn reload(_: &(), _call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    Ok(answer(|daemon| {
        daemon.reload(false)?;
        Ok(().to_variant())
    }))
}

fn reload_config(_: &(), _call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    Ok(answer(|daemon| {
        daemon
            .reload_config()
            .map_err(|e| BusError::failed(format!("Handling config reload: {e:#}")))?;
        Ok(().to_variant())
    }))
}

const REGISTER_OPTIONS: &[OptionSpec] = &[OptionSpec::new("id", "s")];

struct Register {
    id: Option<String>,
}

fn register_client(_: &(), call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    let opts = options::parse_single(&call.params, REGISTER_OPTIONS, &call.method)?;
    Ok(Box::new(Register {
        id: opts.string("id"),
    }))
}

impl Request for Register {
    fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, _uid: Option<u32>) {
        let id = self.id;
        let sender = call.sender.clone();
        if daemon.clients.borrow().contains(&sender) {
            daemon.clients.borrow_mut().update(&sender, |i| {
                if id.is_some() {
                    i.id = id.clone()
                }
            });
            return call.invocation.return_value(None);
        }
        let weak = Rc::downgrade(daemon);
        let name = sender.clone();
        let unwatch = crate::bus::watch_name(daemon.store.connection(), &sender, move || {
            if let Some(d) = weak.upgrade() {
                client_vanished(&d, &name);
            }
        });
        daemon.clients.borrow_mut().insert(
            &sender,
            ClientInfo {
                id,
                ..Default::default()
            },
            unwatch,
        );
        daemon.idle_state_changed();
        // Ask the bus who the caller is before answering it: the bus handles the
        // question before the caller, answered, can leave. Answer at once (clients
        // pipeline their first calls behind this one).
        let weak = Rc::downgrade(daemon);
        daemon.store.connection().call(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "GetConnectionCredentials",
            Some(&(sender.as_str(),).to_variant()),
            glib::VariantTy::new("(a{sv})").ok(),
            gio::DBusCallFlags::NONE,
            -1,
            gio::Cancellable::NONE,
            move |reply| {
                if let Some(d) = weak.upgrade() {
                    let creds = reply
                        .ok()
                        .map(|r| glib::VariantDict::new(Some(&r.child_value(0))));
                    let get = |key: &str| {
                        creds
                            .as_ref()
                            .and_then(|c| c.lookup::<u32>(key).ok().flatten())
                    };
                    client_identified(&d, &sender, get("UnixUserID"), get("ProcessID"));
                }
            },
        );
        call.invocation.return_value(None);
    }
}

/// The bus told who a registered client is.
fn client_identified(daemon: &Daemon, name: &str, uid: Option<u32>, pid: Option<u32>) {
    let mut reg = daemon.clients.borrow_mut();
    // Gone already: its departure was logged.
    if !reg.contains(name) {
        return;
    }
    reg.update(name, |i| {
        i.uid = uid;
        i.pid = pid;
        i.unit = pid.and_then(client_registry::unit_for_pid);
    });
    let desc = reg.describe(name);
    glib::g_message!("rpm-ostreed", "{desc} added; new total={}", reg.len());
}

struct Unregister;

fn unregister_client(_: &(), call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    options::parse_single(&call.params, &[], &call.method)?;
    Ok(Box::new(Unregister))
}

impl Request for Unregister {
    fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, _uid: Option<u32>) {
        client_vanished(daemon, &call.sender);
        call.invocation.return_value(None);
    }
}

fn client_vanished(daemon: &Rc<Daemon>, name: &str) {
    let removed = daemon.clients.borrow_mut().remove(name);
    if let Some(info) = removed {
        let remaining = daemon.clients.borrow().len();
        glib::g_message!(
            "rpm-ostreed",
            "{} vanished; remaining={remaining}",
            info.describe(name)
        );
        daemon.idle_state_changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_cover_the_interface_and_name_real_actions() {
        let rows: Vec<_> = ROWS.iter().map(|r| (r.method, r.access)).collect();
        crate::testutil::check_method_table(names::IFACE_SYSROOT, &rows);
    }
}
