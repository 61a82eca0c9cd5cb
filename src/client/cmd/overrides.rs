//! `rpm-ostree override remove|reset|replace`: change which base packages
//! are overridden (`UpdateDeployment` with `override-*` modifiers); the new
//! deployment's package diff is printed.

use anyhow::{Result, bail};

use super::local_rpms::{LocalRpms, is_local};
use super::{Context, Opts, Outcome, RebootHint, update_deployment};
use crate::client::Exit;
use crate::client::cli::OverrideCmd;
use crate::client::cli::OverrideOpts;

const UNDO_HINT: &str = "Use \"rpm-ostree override reset\" to undo overrides";

fn update(
    o: &OverrideOpts,
    ctx: &Context,
    modifiers: Opts,
    no_overrides: bool,
    rpms: Option<&LocalRpms>,
) -> Result<Exit> {
    let opts = Opts::default()
        .set("reboot", o.reboot)
        .set("no-pull-base", true)
        // A replacement may need what the repositories provide.
        .set("cache-only", rpms.is_none())
        .set("dry-run", o.dry_run)
        .flag("no-overrides", no_overrides)
        .set("lock-finalization", o.lock_finalization);
    update_deployment(
        &o.daemon,
        &o.os,
        ctx,
        modifiers,
        opts,
        rpms.map(|r| &r.fds),
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
            let mut m = Opts::default().set("override-remove-packages", a.packages.clone());
            let mut rpms = LocalRpms::new();
            if !a.replace.is_empty() {
                let handles = replacements(&mut rpms, &a.replace)?;
                m = m.set("override-replace-local-packages", handles);
            }
            let rpms = (!rpms.is_empty()).then_some(&rpms);
            let exit = update(&a.common, ctx, m, false, rpms)?;
            hint(&a.common, ctx, exit);
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
            update(&a.common, ctx, m, a.all, None)
        }
        OverrideCmd::Replace(a) => {
            if a.from.is_some() || a.freeze {
                if !a.experimental {
                    bail!("--from and --freeze require --experimental");
                }
                bail!(
                    "Replacing base packages from a repository (--from) is not supported yet \
                     by this rpm-ostree; replace them with local RPM files"
                );
            }
            if a.packages.is_empty() {
                bail!("At least one PACKAGE must be specified");
            }
            let mut rpms = LocalRpms::new();
            let handles = replacements(&mut rpms, &a.packages)?;
            let mut m = Opts::default().set("override-replace-local-packages", handles);
            if !a.remove.is_empty() {
                m = m.set("override-remove-packages", a.remove.clone());
            }
            let exit = update(&a.common, ctx, m, false, Some(&rpms))?;
            hint(&a.common, ctx, exit);
            Ok(exit)
        }
    }
}

/// Opens the replacement RPMs; a name that is no file is refused.
fn replacements(rpms: &mut LocalRpms, packages: &[String]) -> Result<Vec<glib::variant::Handle>> {
    if let Some(p) = packages.iter().find(|p| !is_local(p)) {
        bail!(
            "Replacing base packages from a repository is not supported yet by this rpm-ostree \
             (without --experimental --from): {p}"
        );
    }
    rpms.add(packages)
}

fn hint(o: &OverrideOpts, ctx: &Context, exit: Exit) {
    if exit == Exit::Ok && !o.reboot && !o.dry_run && !ctx.quiet {
        println!("{UNDO_HINT}");
    }
}
