//! The connection sequence every daemon command goes through (§9.1): the
//! not-booted check, the auth agent, registering as a client, `Reload`, and
//! choosing the OS object; plus small typed helpers for bus calls.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use glib::Variant;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;

use super::cli::{DaemonOpts, OsOpts};
use crate::names;

/// D-Bus calls that may wait for authorization or work get five minutes.
pub(crate) const LONG_TIMEOUT_MS: i32 = 5 * 60 * 1000;

/// A connected client: the bus, the chosen OS object, and the auth agent.
pub(crate) struct Client {
    pub bus: gio::DBusConnection,
    pub os_path: String,
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
    // SAFETY: geteuid cannot fail and has no preconditions.
    unsafe { libc::geteuid() == 0 }
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

fn register_client(bus: &gio::DBusConnection) -> Result<()> {
    let id = std::env::var("RPMOSTREE_CLIENT_ID").unwrap_or_else(|_| "cli".into());
    let mut opts = BTreeMap::new();
    opts.insert("id".to_string(), id.to_variant());
    // A daemon that is exiting because it was idle answers NoReply: try again,
    // activation then starts a fresh one.
    let mut last = None;
    for _ in 0..5 {
        match call(
            bus,
            names::SYSROOT_PATH,
            names::IFACE_SYSROOT,
            "RegisterClient",
            Some(&(opts.clone(),).to_variant()),
            false,
        ) {
            Ok(_) => return Ok(()),
            Err(e)
                if remote_error_name(&e).as_deref()
                    == Some("org.freedesktop.DBus.Error.NoReply") =>
            {
                last = Some(e)
            }
            Err(e) => bail!("Failed to invoke RegisterClient: {}", clean_error(&e)),
        }
    }
    let e = last.expect("at least one attempt");
    bail!("Failed to invoke RegisterClient: {}", clean_error(&e))
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
    if is_root() {
        register_client(&bus).map_err(unreachable_hint)?;
    }
    call(
        &bus,
        names::SYSROOT_PATH,
        names::IFACE_SYSROOT,
        "Reload",
        None,
        false,
    )
    .map_err(|e| unreachable_hint(anyhow!("Loading sysroot: {}", clean_error(&e))))?;
    if let Some(want) = &opts.sysroot {
        let props = get_all(&bus, names::SYSROOT_PATH, names::IFACE_SYSROOT)?;
        let path = props
            .get("Path")
            .and_then(|v| v.str().map(String::from))
            .unwrap_or_default();
        let want_c = std::fs::canonicalize(want).unwrap_or_else(|_| want.clone());
        if Path::new(&path) != want_c {
            bail!(
                "Loading sysroot: the daemon manages sysroot {path}, not {}",
                want.display()
            );
        }
    }
    let os_path = match os.and_then(|o| o.stateroot.as_deref()) {
        Some(name) => get_os(&bus, name)?,
        None => {
            let props = get_all(&bus, names::SYSROOT_PATH, names::IFACE_SYSROOT)?;
            match props.get("Booted").and_then(|v| v.str().map(String::from)) {
                Some(p) if p != "/" => p,
                _ => get_os(&bus, "")?,
            }
        }
    };
    Ok(Client {
        bus,
        os_path,
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

    /// The `id` of the OS's default deployment (changes when one is made).
    pub(crate) fn default_deployment_id(&self) -> Result<Option<String>> {
        let props = self.os_props()?;
        Ok(props.get("DefaultDeployment").and_then(|v| {
            glib::VariantDict::new(Some(v))
                .lookup::<String>("id")
                .ok()
                .flatten()
        }))
    }
}
