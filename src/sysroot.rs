//! The `Sysroot` object: its properties, and `GetOS`, `Reload`, `ReloadConfig`,
//! `RegisterClient`, `UnregisterClient`.

use gio::prelude::*;
use glib::variant::ObjectPath;
use std::rc::Rc;

use crate::authz::{self, Access};
use crate::bus::{MethodCall, Props};
use crate::clients::{self, ClientInfo};
use crate::error::{BusError, reply, reply_error};
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
                dispatch(&d, call)
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

type Handler = fn(&Rc<Daemon>, MethodCall);

/// Method table: name, who may call it, handler.
const METHODS: &[(&str, Access, Handler)] = &[
    ("GetOS", Access::Anyone, get_os),
    ("Reload", Access::Anyone, reload),
    (
        "ReloadConfig",
        Access::Actions(&["reload-daemon"]),
        reload_config,
    ),
    ("RegisterClient", Access::ClientManagement, register_client),
    (
        "UnregisterClient",
        Access::ClientManagement,
        unregister_client,
    ),
];

fn dispatch(daemon: &Rc<Daemon>, call: MethodCall) {
    let Some(&(_, access, handler)) = METHODS.iter().find(|(m, _, _)| *m == call.method) else {
        let msg = format!(
            "rpmostreed Sysroot operation {} not allowed for user",
            call.method
        );
        return reply_error(call.invocation, BusError::access_denied(msg));
    };
    authz::authorize(daemon, call, access.actions(), move |d, call, _| {
        handler(d, call)
    });
}

fn get_os(daemon: &Rc<Daemon>, call: MethodCall) {
    let (name,): (String,) = call.params.get().unwrap_or_default();
    let result = if name.is_empty() {
        Ok(default_os_path(daemon))
    } else {
        let known = daemon.view.borrow().status.oses.contains_key(&name);
        match names::os_object_path(&name) {
            Some(p) if known => Ok(object_path(&p)),
            _ => Err(BusError::not_found(format!("OS name \"{name}\" not found"))),
        }
    };
    reply(call.invocation, result.map(|p| (p,).to_variant()))
}

fn reload(daemon: &Rc<Daemon>, call: MethodCall) {
    let result = daemon.reload(false).map_err(BusError::from);
    reply(call.invocation, result.map(|_| ().to_variant()))
}

fn reload_config(daemon: &Rc<Daemon>, call: MethodCall) {
    let result = daemon
        .reload_config()
        .map_err(|e| BusError::failed(format!("Handling config reload: {e:#}")));
    reply(call.invocation, result.map(|_| ().to_variant()))
}

const REGISTER_OPTIONS: &[OptionSpec] = &[OptionSpec::new("id", "s")];

fn register_client(daemon: &Rc<Daemon>, call: MethodCall) {
    let opts = match options::parse_single(&call.params, REGISTER_OPTIONS, &call.method) {
        Ok(o) => o,
        Err(e) => return reply_error(call.invocation, e),
    };
    let id = opts.string("id");
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
    let watch = gio::bus_watch_name_on_connection(
        daemon.store.connection(),
        &sender,
        gio::BusNameWatcherFlags::NONE,
        |_, _, _| {},
        move |_, name| {
            if let Some(d) = weak.upgrade() {
                client_vanished(&d, name);
            }
        },
    );
    daemon.clients.borrow_mut().insert(
        &sender,
        ClientInfo {
            id,
            ..Default::default()
        },
        Box::new(move || gio::bus_unwatch_name(watch)),
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
        i.unit = pid.and_then(clients::unit_for_pid);
    });
    let desc = reg.describe(name);
    glib::g_message!("rpm-ostreed", "{desc} added; new total={}", reg.len());
}

fn unregister_client(daemon: &Rc<Daemon>, call: MethodCall) {
    if let Err(e) = options::parse_single(&call.params, &[], &call.method) {
        return reply_error(call.invocation, e);
    }
    client_vanished(daemon, &call.sender);
    call.invocation.return_value(None);
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

/// Asks the bus driver a `u`-returning question about a peer (uid, pid).
pub(crate) async fn bus_u32(conn: &gio::DBusConnection, method: &str, name: &str) -> Option<u32> {
    let reply = conn
        .call_future(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            method,
            Some(&(name,).to_variant()),
            Some(glib::VariantTy::new("(u)").expect("valid type")),
            gio::DBusCallFlags::NONE,
            -1,
        )
        .await
        .ok()?;
    reply.get::<(u32,)>().map(|(v,)| v)
}
