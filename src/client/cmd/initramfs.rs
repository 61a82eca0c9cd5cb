//! `rpm-ostree initramfs` (local initramfs regeneration) and `initramfs-etc`
//! (/etc files carried in an overlay initramfs).

use anyhow::{Result, bail};
use glib::prelude::*;

use super::{Context, Opts, Outcome, RebootHint, deployment_transaction};
use crate::client::Exit;
use crate::client::cli::{InitramfsArgs, InitramfsEtcArgs};
use crate::client::connection::{self, Client};
use crate::client::status_text::Dict;

fn default_deployment(client: &Client) -> Dict {
    client
        .initial
        .1
        .get("DefaultDeployment")
        .and_then(|v| v.get::<Dict>())
        .unwrap_or_default()
}

fn strv(d: &Dict, k: &str) -> Vec<String> {
    d.get(k)
        .and_then(|v| v.get::<Vec<String>>())
        .unwrap_or_default()
}

pub(crate) fn run(a: InitramfsArgs, ctx: &Context) -> Result<Exit> {
    if a.enable && a.disable {
        bail!("Cannot simultaenously specify --enable and --disable");
    }
    if a.reboot && !(a.enable || a.disable) {
        bail!("--reboot must be used with --enable or --disable");
    }
    if !a.args.is_empty() && !a.enable {
        bail!("--arg must be used with --enable");
    }
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    if !(a.enable || a.disable) {
        let d = default_deployment(&client);
        let on = d
            .get("regenerate-initramfs")
            .and_then(|v| v.get::<bool>())
            .unwrap_or(false);
        println!(
            "Initramfs regeneration: {}",
            if on { "enabled" } else { "disabled" }
        );
        let args = strv(&d, "initramfs-args");
        if on && !args.is_empty() {
            println!("Initramfs args: {}", args.join(" "));
        }
        return Ok(Exit::Ok);
    }
    let opts = Opts::default()
        .flag("reboot", a.reboot)
        .flag("lock-finalization", a.lock_finalization)
        .set("initiating-command-line", ctx.cmdline.as_str());
    let args = (a.enable, a.args.clone(), opts).to_variant();
    let exit = deployment_transaction(
        &client,
        ctx,
        "SetInitramfsState",
        &args,
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: false,
            hint: RebootHint::Plain,
        },
    )?;
    if !a.reboot && !ctx.quiet {
        println!(
            "Initramfs regeneration is now: {}",
            if a.enable { "enabled" } else { "disabled" }
        );
        if a.disable {
            println!("Initramfs will be reset to default on next reboot.");
        }
    }
    Ok(exit)
}

pub(crate) fn run_etc(a: InitramfsEtcArgs, ctx: &Context) -> Result<Exit> {
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    let modifies = !a.track.is_empty() || !a.untrack.is_empty() || a.untrack_all || a.force_sync;
    if !modifies {
        let files = strv(&default_deployment(&client), "initramfs-etc");
        if files.is_empty() {
            println!("No tracked files.");
        } else {
            println!("Tracked files:");
            for f in files {
                println!("  {f}");
            }
        }
        return Ok(Exit::Ok);
    }
    let opts = Opts::default()
        .flag("reboot", a.reboot)
        .flag("lock-finalization", a.lock_finalization)
        .set("initiating-command-line", ctx.cmdline.as_str());
    let args = (
        a.track.clone(),
        a.untrack.clone(),
        a.untrack_all,
        a.force_sync,
        opts,
    )
        .to_variant();
    deployment_transaction(
        &client,
        ctx,
        "InitramfsEtc",
        &args,
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: a.unchanged_exit_77,
            hint: RebootHint::Plain,
        },
    )
}
