//! `rpm-ostree override remove|reset|replace`: change which base packages
//! are overridden (`UpdateDeployment` with `override-*` modifiers); the new
//! deployment's package diff is printed.

use anyhow::{Result, bail};

use super::{Context, Opts, Outcome, RebootHint, update_deployment};
use crate::client::Exit;
use crate::client::cli::OverrideCmd;
use crate::client::cli::OverrideOpts;

const UNDO_HINT: &str = "Use \"rpm-ostree override reset\" to undo overrides";

fn update(o: &OverrideOpts, ctx: &Context, modifiers: Opts, no_overrides: bool) -> Result<Exit> {
    let opts = Opts::default()
        .set("reboot", o.reboot)
        .set("no-pull-base", true)
        .set("cache-only", true)
        .set("dry-run", o.dry_run)
        .flag("no-overrides", no_overrides)
        .set("lock-finalization", o.lock_finalization);
    update_deployment(
        &o.daemon,
        &o.os,
        ctx,
        modifiers,
        opts,
        Outcome {
            reboot: o.reboot,
            dry_run: o.dry_run,
            unchanged_exit_77: false,
            hint: RebootHint::Plain,
        },
    )
}

pub(crate) fn run(cmd: OverrideCmd, ctx: &Context) -> Result<Exit> {
    match cmd {
        OverrideCmd::Remove(a) => {
            if a.packages.is_empty() {
                bail!("At least one PACKAGE must be specified");
            }
            if !a.replace.is_empty() {
                bail!("Replacing base packages is not supported yet by this rpm-ostree");
            }
            let m = Opts::default().set("override-remove-packages", a.packages.clone());
            let exit = update(&a.common, ctx, m, false)?;
            if exit == Exit::Ok && !a.common.reboot && !a.common.dry_run && !ctx.quiet {
                println!("{UNDO_HINT}");
            }
            Ok(exit)
        }
        OverrideCmd::Reset(a) => {
            if a.packages.is_empty() && !a.all {
                bail!("At least one PACKAGE must be specified");
            }
            let m = if a.all {
                Opts::default()
            } else {
                Opts::default().set("override-reset-packages", a.packages.clone())
            };
            update(&a.common, ctx, m, a.all)
        }
        OverrideCmd::Replace(_) => {
            bail!("Replacing base packages is not supported yet by this rpm-ostree")
        }
    }
}
