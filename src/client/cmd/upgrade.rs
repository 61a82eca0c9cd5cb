//! `rpm-ostree upgrade` (alias `update`): a plain upgrade, or with `--check`/
//! `--preview`/`--trigger-automatic-update-policy` an automatic-update trigger.

use anyhow::{Result, bail};
use glib::prelude::*;

use super::{Context, Opts, Outcome, RebootHint, check_update_driver, deployment_transaction};
use crate::client::Exit;
use crate::client::cli::UpgradeArgs;
use crate::client::connection;
use crate::client::status_text::{Dict, render_cached_update};
use crate::client::txn;

pub(crate) fn run(a: UpgradeArgs, ctx: &Context) -> Result<Exit> {
    if a.reboot && a.preview {
        bail!("Cannot specify both --reboot and --preview");
    }
    if a.reboot && a.check {
        bail!("Cannot specify both --reboot and --check");
    }
    if a.preview && !(a.packages.install.is_empty() && a.packages.uninstall.is_empty()) {
        bail!("Cannot specify both --preview and --install/--uninstall");
    }
    a.packages.refuse()?;
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    let check = a.check || a.preview;
    if !check && !a.trigger_automatic_update_policy {
        check_update_driver(&client, a.bypass_driver)?;
    }
    let policy = client
        .initial
        .0
        .get("AutomaticUpdatePolicy")
        .and_then(|v| v.str().map(String::from))
        .unwrap_or_default();
    if check || a.trigger_automatic_update_policy {
        use std::io::IsTerminal;
        let mode = if check { "check" } else { "auto" };
        let to_self = !(check || std::io::stdout().is_terminal());
        let opts = Opts::default()
            .set("mode", mode)
            .set("initiating-command-line", ctx.cmdline.as_str())
            .set("output-to-self", to_self);
        if check {
            eprintln!(
                "Note: --check and --preview may be unreliable.  See https://github.com/coreos/rpm-ostree/issues/1579"
            );
        }
        let reply = client.os_call("AutomaticUpdateTrigger", &(opts,).to_variant())?;
        let (enabled, address): (bool, String) = reply.get().unwrap_or_default();
        if !enabled {
            println!("Automatic updates are not enabled; exiting...");
            return Ok(Exit::Ok);
        }
        txn::run(Some(&client.bus), &address, ctx.quiet)?;
        client.reload()?;
        if !check {
            return Ok(Exit::Ok);
        }
        let update: Dict = client
            .os_props()?
            .get("CachedUpdate")
            .and_then(|v| v.get::<Dict>())
            .unwrap_or_default();
        if update.is_empty() {
            println!("No updates available.");
            return Ok(Exit::Unchanged);
        }
        crate::stdout::write(&render_cached_update(
            &update,
            a.preview,
            std::io::stdout().is_terminal(),
        ));
        return Ok(Exit::Ok);
    }
    if policy == "stage" && !ctx.quiet {
        println!("note: automatic updates (stage) are enabled");
    }
    let opts = Opts::default()
        .flag("reboot", a.reboot)
        .flag("allow-downgrade", a.allow_downgrade)
        .flag("cache-only", a.cache_only)
        .flag("download-only", a.download_only)
        .flag("lock-finalization", a.lock_finalization)
        .set("initiating-command-line", ctx.cmdline.as_str());
    deployment_transaction(
        &client,
        ctx,
        "Upgrade",
        &(opts,).to_variant(),
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: a.unchanged_exit_77,
            hint: RebootHint::Plain,
        },
    )
}
