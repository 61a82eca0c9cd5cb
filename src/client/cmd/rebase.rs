//! `rpm-ostree rebase REFSPEC [REVISION]`: switch to another branch or remote.

use anyhow::{Result, bail};
use glib::prelude::*;

use super::{Context, Opts, Outcome, RebootHint, check_update_driver, deployment_transaction};
use crate::client::Exit;
use crate::client::cli::RebaseArgs;
use crate::client::connection;

/// The refspec from the positional argument or `--branch`/`--remote`.
fn target(a: &RebaseArgs) -> Result<String> {
    match (&a.refspec, &a.remote, &a.branch) {
        (Some(r), _, _) if r.is_empty() => bail!("Refspec is empty"),
        (Some(r), _, _) => Ok(r.clone()),
        (None, Some(m), Some(b)) => Ok(format!("{m}:{b}")),
        (None, Some(m), None) => Ok(format!("{m}:")),
        (None, None, Some(b)) => Ok(b.clone()),
        (None, None, None) => bail!("Must specify refspec, or -b branch or -m remote"),
    }
}

pub(crate) fn run(a: RebaseArgs, ctx: &Context) -> Result<Exit> {
    a.packages.refuse()?;
    let refspec = target(&a)?;
    if a.custom_origin_url.is_some() && a.custom_origin_description.is_none() {
        bail!("--custom-origin-description must be supplied with --custom-origin-url");
    }
    if refspec.starts_with('/') {
        bail!("Rebasing to a local repository path is not supported yet by this rpm-ostree");
    }
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    check_update_driver(&client, a.bypass_driver)?;
    let custom = a
        .custom_origin_url
        .clone()
        .zip(a.custom_origin_description.clone());
    let opts = Opts::default()
        .flag("reboot", a.reboot)
        .set("allow-downgrade", !a.disallow_downgrade)
        .flag("cache-only", a.cache_only)
        .flag("download-only", a.download_only)
        .flag("skip-purge", a.skip_purge)
        .flag("lock-finalization", a.lock_finalization)
        .set("initiating-command-line", ctx.cmdline.as_str())
        .set_opt("custom-origin", custom)
        .set_opt("revision", a.revision.clone());
    let args = (opts, refspec.as_str(), Vec::<String>::new()).to_variant();
    deployment_transaction(
        &client,
        ctx,
        "Rebase",
        &args,
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: false,
            hint: RebootHint::Queued,
        },
    )
}
