//! The connection sequence every daemon command goes through (§9.1): the
//! not-booted check, the auth agent, registering as a client, `Reload`, and
//! choosing the OS object; plus small typed helpers for bus calls.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use glib::Variant;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::rc::Rc;

use super::cli::{DaemonOpts, OsOpts};
use crate::names;

/// D-Bus calls that may wait for authorization or work get five minutes.
pub(crate) const LONG_TIMEOUT_MS: i32 = 5 * 60 * 1000;

/// A connected client: the bus, the chosen OS object, and the auth agent.
pub(crate) struct Client {
    pub bus: gio::DBusConnection,
    pub os_path: String,
    /// Sysroot and OS properties as read while connecting (after `Reload`).
    pub initial: (BTreeMap<String, Variant>, BTreeMap<String, Variant>),
    _agent: Option<AgentGuard>,
}

/// Kills `pkttyagent` when the command is done.
struct AgentGuard(Child);

impl Drop for AgentGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The runtime directory shared with the daemon (update driver record).
pub(crate) fn runtime_dir() -> std::path::PathBuf {
    std::env::var_os("RPMOSTREE_TEST_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| names::DEFAULT_RUNTIME_DIR.into())
}

/// Refuses to run on a system that was not booted via libostree (unless
/// `--sysroot` names what to manage).
pub(crate) fn require_booted(opts: &DaemonOpts) -> Result<()> {
    if opts.sysroot.is_some() || Path::new("/run/ostree-booted").exists() {
        return Ok(());
    }
    let container = std::env::var("container")
        .ok()
        .map(|c| format!("; found container={c} environment variable."))
        .unwrap_or_else(|| ".".into());
    bail!(
        "This system was not booted via libostree{container}\nCurrently, most rpm-ostree commands only work on ostree-based host systems.\n"
    )
}

/// An authentication agent on our terminal, for non-root users.
fn spawn_agent() -> Option<AgentGuard> {
    use std::io::IsTerminal;
    if is_root() || !std::io::stdin().is_terminal() {
        return None;
    }
    let agent = Path::new("/usr/bin/pkttyagent");
    if !agent.exists() {
        return None;
    }
    let pid = std::process::id().to_string();
    std::process::Command::new(agent)
        .args(["--process", &pid, "--fallback"])
        .spawn()
        .ok()
        .map(AgentGuard)
}

/// Makes sure the daemon runs: on a systemd host as root, through its unit;
/// elsewhere (containers, test beds) bus activation or the running daemon does.
fn ensure_daemon_started() -> Result<()> {
    if !is_root() || !Path::new("/run/systemd/system").exists() {
        return Ok(());
    }
    let active = std::process::Command::new("systemctl")
        .args(["is-active", "--quiet", "rpm-ostreed"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if active {
        return Ok(());
    }
    let ok = std::process::Command::new("systemctl")
        .args(["--no-ask-password", "start", "rpm-ostreed.service"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let _ = std::process::Command::new("systemctl")
            .args(["--no-pager", "status", "rpm-ostreed.service"])
            .status();
        bail!("Failed to start rpm-ostreed.service");
    }
    Ok(())
}

/// The `id` of the OS's default deployment in OS properties (it changes when a
/// deployment is made).
pub(crate) fn default_deployment_id(os_props: &BTreeMap<String, Variant>) -> Option<String> {
    os_props.get("DefaultDeployment").and_then(|v| {
        glib::VariantDict::new(Some(v))
            .lookup::<String>("id")
            .ok()
            .flatten()
    })
}

/// Connects to a transaction's peer socket. The daemon may be between two
/// states: up to five tries, a second apart, then the last error.
pub(crate) fn connect_transaction(address: &str) -> Result<gio::DBusConnection, glib::Error> {
    let mut attempt = 0;
    loop {
        match gio::DBusConnection::for_address_sync(
            address,
            gio::DBusConnectionFlags::AUTHENTICATION_CLIENT,
            None,
            gio::Cancellable::NONE,
        ) {
            Ok(peer) => return Ok(peer),
            Err(e) if attempt == 4 => return Err(e),
            Err(_) => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }
}

/// A string property of the transaction behind `peer` (empty if unreadable).
pub(crate) fn transaction_property(peer: &gio::DBusConnection, prop: &str) -> String {
    peer.call_sync(
        None,
        "/",
        names::IFACE_PROPERTIES,
        "Get",
        Some(&(names::IFACE_TRANSACTION, prop).to_variant()),
        None,
        gio::DBusCallFlags::NONE,
        -1,
        gio::Cancellable::NONE,
    )
    .ok()
    .and_then(|v| v.child_value(0).as_variant())
    .and_then(|v| v.str().map(String::from))
    .unwrap_or_default()
}

/// Turns GDBus's error text into what users should read.
pub(crate) fn clean_error(e: &glib::Error) -> String {
    let mut msg = e.message().to_string();
    if let Some(rest) = msg.strip_prefix("GDBus.Error:")
        && let Some((_, m)) = rest.split_once(": ")
    {
        msg = m.to_string();
    }
    msg
}

/// The remote D-Bus error name of `e`, if it came from the bus.
pub(crate) fn remote_error_name(e: &glib::Error) -> Option<String> {
    gio::DBusError::remote_error(e).map(|s| s.to_string())
}

pub(crate) fn call(
    bus: &gio::DBusConnection,
    path: &str,
    iface: &str,
    method: &str,
    args: Option<&Variant>,
    interactive: bool,
) -> Result<Variant, glib::Error> {
    let flags = if interactive {
        gio::DBusCallFlags::ALLOW_INTERACTIVE_AUTHORIZATION
    } else {
        gio::DBusCallFlags::NONE
    };
    bus.call_sync(
        Some(names::BUS_NAME),
        path,
        iface,
        method,
        args,
        None,
        flags,
        LONG_TIMEOUT_MS,
        gio::Cancellable::NONE,
    )
}

/// `Properties.GetAll` of one interface.
pub(crate) fn get_all(
    bus: &gio::DBusConnection,
    path: &str,
    iface: &str,
) -> Result<BTreeMap<String, Variant>> {
    let r = call(
        bus,
        path,
        names::IFACE_PROPERTIES,
        "GetAll",
        Some(&(iface,).to_variant()),
        false,
    )
    .map_err(|e| anyhow!("{}", clean_error(&e)))?;
    r.child_value(0)
        .get::<BTreeMap<String, Variant>>()
        .ok_or_else(|| anyhow!("Unexpected reply to GetAll({iface})"))
}

/// Sends `calls` at once and waits for every reply: the daemon answers them in
/// order, so the whole batch costs one round trip.
fn call_all(
    bus: &gio::DBusConnection,
    calls: &[(&str, &str, &str, Option<Variant>)],
) -> Vec<Result<Variant, glib::Error>> {
    type Slot = Rc<RefCell<Option<Result<Variant, glib::Error>>>>;
    let slots: Vec<Slot> = calls.iter().map(|_| Slot::default()).collect();
    for ((path, iface, method, args), slot) in calls.iter().zip(&slots) {
        let slot = slot.clone();
        bus.call(
            Some(names::BUS_NAME),
            path,
            iface,
            method,
            args.as_ref(),
            None,
            gio::DBusCallFlags::NONE,
            LONG_TIMEOUT_MS,
            gio::Cancellable::NONE,
            move |r| *slot.borrow_mut() = Some(r),
        );
    }
    let ctx = glib::MainContext::ref_thread_default();
    while slots.iter().any(|s| s.borrow().is_none()) {
        ctx.iteration(true);
    }
    slots
        .into_iter()
        .map(|s| s.take().expect("every reply arrived"))
        .collect()
}

type ManagedObjects = BTreeMap<String, BTreeMap<String, BTreeMap<String, Variant>>>;

/// The first conversation with the daemon: register (root), `Reload`, and read
/// every object's properties. Retried while the daemon is exiting for idleness
/// (it answers `NoReply`; activation then starts a fresh one).
fn handshake(bus: &gio::DBusConnection) -> Result<ManagedObjects> {
    let id = std::env::var("RPMOSTREE_CLIENT_ID").unwrap_or_else(|_| "cli".into());
    let mut reg = BTreeMap::new();
    reg.insert("id".to_string(), id.to_variant());
    let mut calls = Vec::new();
    if is_root() {
        calls.push((
            names::SYSROOT_PATH,
            names::IFACE_SYSROOT,
            "RegisterClient",
            Some((reg,).to_variant()),
        ));
    }
    calls.push((names::SYSROOT_PATH, names::IFACE_SYSROOT, "Reload", None));
    calls.push((
        names::BASE_PATH,
        names::IFACE_OBJECT_MANAGER,
        "GetManagedObjects",
        None,
    ));
    let mut attempt = 0;
    loop {
        let mut results = call_all(bus, &calls);
        let no_reply = results.iter().any(|r| {
            r.as_ref().err().and_then(remote_error_name).as_deref()
                == Some("org.freedesktop.DBus.Error.NoReply")
        });
        attempt += 1;
        if no_reply && attempt < 5 {
            continue;
        }
        let objects = results.pop().expect("GetManagedObjects");
        let reload = results.pop().expect("Reload");
        if let Some(Err(e)) = results.pop() {
            bail!("Failed to invoke RegisterClient: {}", clean_error(&e));
        }
        reload.map_err(|e| anyhow!("Loading sysroot: {}", clean_error(&e)))?;
        let objects = objects.map_err(|e| anyhow!("Loading sysroot: {}", clean_error(&e)))?;
        let parsed: BTreeMap<
            glib::variant::ObjectPath,
            BTreeMap<String, BTreeMap<String, Variant>>,
        > = objects
            .child_value(0)
            .get()
            .ok_or_else(|| anyhow!("Loading sysroot: unexpected reply to GetManagedObjects"))?;
        return Ok(parsed
            .into_iter()
            .map(|(p, v)| (p.as_str().to_string(), v))
            .collect());
    }
}

/// Connects to the daemon as every daemon command does.
pub(crate) fn connect(opts: &DaemonOpts, os: Option<&OsOpts>) -> Result<Client> {
    require_booted(opts)?;
    let agent = spawn_agent();
    ensure_daemon_started()?;
    let bus = gio::bus_get_sync(gio::BusType::System, gio::Cancellable::NONE).map_err(|e| {
        anyhow!(
            "Loading sysroot: Connecting to the system bus: {}",
            e.message()
        )
    })?;
    let objects = handshake(&bus).map_err(unreachable_hint)?;
    let sysroot = objects
        .get(names::SYSROOT_PATH)
        .and_then(|o| o.get(names::IFACE_SYSROOT))
        .cloned()
        .ok_or_else(|| anyhow!("Loading sysroot: the daemon has no Sysroot object"))?;
    let prop = |k: &str| sysroot.get(k).and_then(|v| v.str().map(String::from));
    if let Some(want) = &opts.sysroot {
        let path = prop("Path").unwrap_or_default();
        let want_c = std::fs::canonicalize(want).unwrap_or_else(|_| want.clone());
        if Path::new(&path) != want_c {
            bail!(
                "Loading sysroot: the daemon manages sysroot {path}, not {}",
                want.display()
            );
        }
    }
    let os_objects: BTreeMap<String, BTreeMap<String, Variant>> = objects
        .into_iter()
        .filter_map(|(p, mut ifaces)| ifaces.remove(names::IFACE_OS).map(|props| (p, props)))
        .collect();
    let os_path = match os.and_then(|o| o.stateroot.as_deref()) {
        Some(name) => os_objects
            .iter()
            .find(|(_, props)| props.get("Name").and_then(|v| v.str()) == Some(name))
            .map(|(p, _)| p.clone())
            .ok_or_else(|| anyhow!("Loading sysroot: OS name \"{name}\" not found"))?,
        None => match prop("Booted") {
            Some(p) if p != "/" => p,
            _ => get_os(&bus, "")?,
        },
    };
    let os_props = os_objects.get(&os_path).cloned().unwrap_or_default();
    Ok(Client {
        bus,
        os_path,
        initial: (sysroot, os_props),
        _agent: agent,
    })
}

fn get_os(bus: &gio::DBusConnection, name: &str) -> Result<String> {
    let r = call(
        bus,
        names::SYSROOT_PATH,
        names::IFACE_SYSROOT,
        "GetOS",
        Some(&(name,).to_variant()),
        false,
    )
    .map_err(|e| anyhow!("Loading sysroot: {}", clean_error(&e)))?;
    Ok(r.child_value(0).str().unwrap_or("/").to_string())
}

/// A clearer message when the daemon cannot be reached at all.
fn unreachable_hint(e: anyhow::Error) -> anyhow::Error {
    let text = format!("{e:#}");
    let unreachable = [
        "ServiceUnknown",
        "was not provided by any .service files",
        "Timeout was reached",
        "NameHasNoOwner",
    ]
    .iter()
    .any(|s| text.contains(s));
    if unreachable {
        anyhow!(
            "{text}\nThe rpm-ostree daemon ({}) could not be reached on the system bus; check that it is installed and can start (`systemctl status rpm-ostreed`).",
            names::BUS_NAME
        )
    } else {
        e
    }
}

impl Client {
    pub(crate) fn sysroot_props(&self) -> Result<BTreeMap<String, Variant>> {
        get_all(&self.bus, names::SYSROOT_PATH, names::IFACE_SYSROOT)
    }

    pub(crate) fn os_props(&self) -> Result<BTreeMap<String, Variant>> {
        get_all(&self.bus, &self.os_path, names::IFACE_OS)
    }

    /// Calls a method of the OS object (interactive authorization allowed).
    pub(crate) fn os_call(&self, method: &str, args: &Variant) -> Result<Variant> {
        call(
            &self.bus,
            &self.os_path,
            names::IFACE_OS,
            method,
            Some(args),
            true,
        )
        .map_err(|e| anyhow!("{}", clean_error(&e)))
    }

    /// [`Self::os_call`] passing the descriptors `fds` along.
    pub(crate) fn os_call_with_fds(
        &self,
        method: &str,
        args: &Variant,
        fds: &gio::UnixFDList,
    ) -> Result<Variant> {
        self.bus
            .call_with_unix_fd_list_sync(
                Some(names::BUS_NAME),
                &self.os_path,
                names::IFACE_OS,
                method,
                Some(args),
                None,
                gio::DBusCallFlags::ALLOW_INTERACTIVE_AUTHORIZATION,
                LONG_TIMEOUT_MS,
                Some(fds),
                gio::Cancellable::NONE,
            )
            .map(|(v, _)| v)
            .map_err(|e| anyhow!("{}", clean_error(&e)))
    }

    pub(crate) fn reload(&self) -> Result<()> {
        call(
            &self.bus,
            names::SYSROOT_PATH,
            names::IFACE_SYSROOT,
            "Reload",
            None,
            false,
        )
        .map(|_| ())
        .map_err(|e| anyhow!("{}", clean_error(&e)))
        .context("Reloading")
    }
}
