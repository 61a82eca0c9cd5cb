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
    cache_only: bool,
) -> Result<Exit> {
    let opts = Opts::default()
        .set("reboot", o.reboot)
        .set("no-pull-base", true)
        .set("cache-only", cache_only)
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
            // A replacement may need what the repositories provide.
            let exit = update(&a.common, ctx, m, false, rpms, rpms.is_none())?;
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
            update(&a.common, ctx, m, a.all, None, true)
        }
        OverrideCmd::Replace(a) => {
            if a.from.is_some() || a.freeze {
                if !a.experimental {
                    bail!("--from and --freeze require --experimental");
                }
                if a.freeze {
                    bail!("--freeze is not supported yet by this rpm-ostree");
                }
                return from_repo(&a, ctx);
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
            let exit = update(&a.common, ctx, m, false, Some(&rpms), false)?;
            hint(&a.common, ctx, exit);
            Ok(exit)
        }
    }
}

/// `override replace --experimental --from repo=ID NAME...`: the newest
/// packages of those names in that repository replace the base's.
fn from_repo(a: &crate::client::cli::OverrideReplaceArgs, ctx: &Context) -> Result<Exit> {
    let from = a.from.as_deref().unwrap_or_default();
    let Some(("repo", repo)) = from.split_once('=') else {
        bail!("Invalid --from source '{from}'; expected repo=<id>");
    };
    if repo.is_empty() {
        bail!("Invalid --from source '{from}'; expected repo=<id>");
    }
    if a.packages.is_empty() {
        bail!("At least one PACKAGE must be specified");
    }
    if let Some(p) = a.packages.iter().find(|p| is_local(p)) {
        bail!("Local packages cannot be replaced --from a repository: {p}");
    }
    let treefile = serde_json::json!({
        "override-replace": [{"from": {"repo": repo}, "packages": a.packages}],
    });
    let mut m = Opts::default().set("treefile", treefile.to_string());
    if !a.remove.is_empty() {
        m = m.set("override-remove-packages", a.remove.clone());
    }
    // The repository's metadata is needed.
    let exit = update(&a.common, ctx, m, false, None, false)?;
    hint(&a.common, ctx, exit);
    Ok(exit)
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
