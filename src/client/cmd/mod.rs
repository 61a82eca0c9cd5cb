//! One file per verb; this file dispatches and holds what several verbs share:
//! running a deployment transaction and reporting its outcome, the update-driver
//! guard, and option dictionaries.

use anyhow::{Result, bail};
use glib::Variant;
use glib::prelude::*;
use std::collections::BTreeMap;

use super::Exit;
use super::cli::Command;
use super::connection::{self, Client};
use super::txn;

mod cancel;
mod cleanup;
mod compose;
mod deploy;
mod finalize;
mod initramfs;
mod internals;
mod kargs;
mod local_rpms;
mod overrides;
mod pkg;
mod rebase;
mod reload;
mod rollback;
mod rpmmd;
mod status;
mod upgrade;
mod usroverlay;

/// What every verb gets besides its arguments.
pub(crate) struct Context {
    pub quiet: bool,
    /// argv after the program name, for `initiating-command-line`.
    pub cmdline: String,
}

pub(crate) fn run(command: Command, ctx: &Context) -> Result<Exit> {
    match command {
        Command::Status(a) => status::run(a, ctx),
        Command::Upgrade(a) => upgrade::run(a, ctx),
        Command::Deploy(a) => deploy::run(a, ctx),
        Command::Rebase(a) => rebase::run(a, ctx),
        Command::Rollback(a) => rollback::run(a, ctx),
        Command::Cleanup(a) => cleanup::run(a, ctx),
        Command::Install(a) => pkg::install(a, ctx),
        Command::Uninstall(a) => pkg::uninstall(a, ctx),
        Command::Reset(a) => pkg::reset(a, ctx),
        Command::Override(o) => overrides::run(o, ctx),
        Command::RefreshMd(a) => rpmmd::refresh(a, ctx),
        Command::Search(a) => rpmmd::search(a),
        Command::Kargs(a) => kargs::run(a, ctx),
        Command::Initramfs(a) => initramfs::run(a, ctx),
        Command::InitramfsEtc(a) => initramfs::run_etc(a, ctx),
        Command::Cancel(a) => cancel::run(a, ctx),
        Command::Reload(a) => reload::run(a, ctx),
        Command::FinalizeDeployment(a) => finalize::run(a, ctx),
        Command::Usroverlay(a) => usroverlay::run(a),
        // main.rs executes rpm-ostreed for `db` before parsing.
        Command::Db(_) => bail!("rpm-ostree db is run by rpm-ostreed"),
        Command::Compose(c) => compose::run(c, ctx),
        Command::Testutils(t) => reload::testutils(t, ctx),
        Command::Internals(i) => internals::run(i),
    }
}

/// An `a{sv}` options dictionary under construction.
#[derive(Default)]
pub(crate) struct Opts(BTreeMap<String, Variant>);

impl Opts {
    pub(crate) fn set(mut self, key: &str, v: impl ToVariant) -> Self {
        self.0.insert(key.to_string(), v.to_variant());
        self
    }
    /// Sets a boolean only when true (the daemon's default is false).
    pub(crate) fn flag(self, key: &str, v: bool) -> Self {
        if v { self.set(key, true) } else { self }
    }
    pub(crate) fn set_opt<T: ToVariant>(self, key: &str, v: Option<T>) -> Self {
        match v {
            Some(v) => self.set(key, v),
            None => self,
        }
    }
}

// An options dictionary is an `a{sv}`, also inside argument tuples.
impl glib::variant::StaticVariantType for Opts {
    fn static_variant_type() -> std::borrow::Cow<'static, glib::VariantTy> {
        std::borrow::Cow::Borrowed(glib::VariantTy::VARDICT)
    }
}

impl ToVariant for Opts {
    fn to_variant(&self) -> Variant {
        self.0.to_variant()
    }
}

/// The message after a change that needs a reboot.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RebootHint {
    /// `Run "systemctl reboot" to start a reboot`
    Plain,
    /// `Changes queued for next boot. Run "systemctl reboot" to start a reboot`
    Queued,
}

impl RebootHint {
    fn text(self) -> &'static str {
        match self {
            Self::Plain => "Run \"systemctl reboot\" to start a reboot",
            Self::Queued => {
                "Changes queued for next boot. Run \"systemctl reboot\" to start a reboot"
            }
        }
    }
}

/// How a deployment-making command wants its outcome reported.
pub(crate) struct Outcome {
    pub reboot: bool,
    pub dry_run: bool,
    pub unchanged_exit_77: bool,
    pub hint: RebootHint,
}

/// `UpdateDeployment(modifiers, options)` on the OS of `os`, as a
/// deployment transaction (the command line added to `options`), with the
/// descriptors `fds` (local RPMs) if any.
pub(crate) fn update_deployment(
    daemon: &super::cli::DaemonOpts,
    os: &super::cli::OsOpts,
    ctx: &Context,
    modifiers: Opts,
    options: Opts,
    fds: Option<&gio::UnixFDList>,
    outcome: Outcome,
) -> Result<Exit> {
    let client = connection::connect(daemon, Some(os))?;
    let options = options.set("initiating-command-line", ctx.cmdline.as_str());
    let args = (modifiers, options).to_variant();
    deployment_transaction_with_fds(&client, ctx, "UpdateDeployment", &args, fds, outcome)
}

/// Calls `method` on the OS object, runs the transaction it returns, then
/// reports whether a new default deployment was made.
pub(crate) fn deployment_transaction(
    client: &Client,
    ctx: &Context,
    method: &str,
    args: &Variant,
    outcome: Outcome,
) -> Result<Exit> {
    deployment_transaction_with_fds(client, ctx, method, args, None, outcome)
}

/// [`deployment_transaction`], passing the descriptors `fds` along.
pub(crate) fn deployment_transaction_with_fds(
    client: &Client,
    ctx: &Context,
    method: &str,
    args: &Variant,
    fds: Option<&gio::UnixFDList>,
    outcome: Outcome,
) -> Result<Exit> {
    let before = connection::default_deployment_id(&client.initial.1);
    let reply = match fds {
        Some(fds) => client.os_call_with_fds(method, args, fds)?,
        None => client.os_call(method, args)?,
    };
    let address = reply.child_value(0).str().unwrap_or_default().to_string();
    txn::run(Some(&client.bus), &address, ctx.quiet)?;
    if outcome.reboot {
        return Ok(Exit::Ok);
    }
    client.reload()?;
    if outcome.dry_run {
        println!("Exiting because of '--dry-run' option");
        return Ok(Exit::Ok);
    }
    let os = client.os_props()?;
    let after = connection::default_deployment_id(&os);
    if before == after {
        return Ok(if outcome.unchanged_exit_77 {
            Exit::Unchanged
        } else {
            Exit::Ok
        });
    }
    if !ctx.quiet {
        print_new_deployment_diff(client, &os)?;
        println!("{}", outcome.hint.text());
    }
    Ok(Exit::Ok)
}

/// The package changes from the booted deployment to the new default one
/// (`os`: the OS object's properties, with the cached update).
fn print_new_deployment_diff(client: &Client, os: &BTreeMap<String, Variant>) -> Result<()> {
    let sysroot = client.sysroot_props()?;
    let path = sysroot
        .get("Path")
        .and_then(|v| v.str().map(String::from))
        .unwrap_or_else(|| "/".into());
    let deployments: Vec<BTreeMap<String, Variant>> = sysroot
        .get("Deployments")
        .and_then(|v| v.get())
        .unwrap_or_default();
    let Some(new) = deployments.first() else {
        return Ok(());
    };
    // The deployment is made: a diff that cannot be read is no failure.
    let cached: BTreeMap<String, Variant> = os
        .get("CachedUpdate")
        .and_then(|v| v.get())
        .unwrap_or_default();
    match super::pkgdiff::booted_to(&path, &deployments, new, &cached) {
        Some(Ok(diff)) => crate::stdout::write(&diff.block()),
        Some(Err(e)) => eprintln!("warning: Reading the package diff: {e:#}"),
        None => {}
    }
    Ok(())
}

/// Runs a transaction whose outcome is just success or failure.
pub(crate) fn simple_transaction(
    client: &Client,
    ctx: &Context,
    method: &str,
    args: &Variant,
) -> Result<()> {
    let reply = client.os_call(method, args)?;
    let address = reply.child_value(0).str().unwrap_or_default().to_string();
    txn::run(Some(&client.bus), &address, ctx.quiet)?;
    client.reload()
}

/// The systemd unit we run in, from our cgroup.
fn own_unit() -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    path.split('/')
        .rev()
        .find(|s| s.ends_with(".service") || s.ends_with(".scope"))
        .map(String::from)
}

/// `ActiveState` of a systemd unit, `None` without systemd.
pub(crate) fn unit_state(bus: &gio::DBusConnection, unit: &str) -> Option<String> {
    let call = |path: &str, iface: &str, method: &str, args: Variant| {
        bus.call_sync(
            Some("org.freedesktop.systemd1"),
            path,
            iface,
            method,
            Some(&args),
            None,
            gio::DBusCallFlags::NO_AUTO_START,
            5000,
            gio::Cancellable::NONE,
        )
        .ok()
    };
    let unit_path = call(
        "/org/freedesktop/systemd1",
        "org.freedesktop.systemd1.Manager",
        "LoadUnit",
        (unit,).to_variant(),
    )?;
    let path = unit_path.child_value(0).str()?.to_string();
    let state = call(
        &path,
        "org.freedesktop.DBus.Properties",
        "Get",
        ("org.freedesktop.systemd1.Unit", "ActiveState").to_variant(),
    )?;
    state
        .child_value(0)
        .as_variant()
        .and_then(|v| v.str().map(String::from))
}

/// Refuses to act when another agent drives updates (unless bypassed).
pub(crate) fn check_update_driver(client: &Client, bypass: bool) -> Result<()> {
    if bypass {
        return Ok(());
    }
    let Some((name, unit)) = read_driver() else {
        return Ok(());
    };
    // Without systemd the driver's state is unknown: assume it is active.
    let active = unit_state(&client.bus, &unit)
        .map(|s| matches!(s.as_str(), "active" | "activating" | "reloading" | "failed"))
        .unwrap_or(true);
    if !active || own_unit().as_deref() == Some(unit.as_str()) {
        return Ok(());
    }
    bail!(
        "Updates and deployments are driven by {name} ({unit})\nSee {name}'s documentation\nUse --bypass-driver to bypass {name} and perform the operation anyways"
    )
}

/// The registered update driver: (name, unit).
pub(crate) fn read_driver() -> Option<(String, String)> {
    crate::state_files::read(&connection::runtime_dir()).map(|d| (d.name, d.unit))
}

impl crate::client::cli::PackageOpts {
    /// `--install`/`--uninstall` with upgrade, deploy and rebase are not
    /// wired yet: refuse instead of ignoring.
    pub(crate) fn refuse(&self) -> Result<()> {
        if !self.install.is_empty() || !self.uninstall.is_empty() {
            bail!(
                "--install/--uninstall with upgrade, deploy or rebase are not supported yet by \
                 this rpm-ostree; run rpm-ostree install/uninstall after it"
            );
        }
        Ok(())
    }
}
