//! `rpm-ostree deploy REVISION`: deploy a version or checksum of the branch;
//! with `--register-driver` (and an empty revision) record the update driver.

use anyhow::{Result, bail};
use glib::prelude::*;

use super::{Context, Opts, Outcome, RebootHint, check_update_driver, deployment_transaction};
use crate::client::Exit;
use crate::client::cli::DeployArgs;
use crate::client::connection::{self, Client};
use crate::client::txn;
use crate::pkgdiff::PkgDiff;

/// `deploy --preview`: what deploying REVISION would change, as `+`/`-`/`!`/`=`
/// lines (the daemon pulls what it needs first).
fn preview(client: &Client, ctx: &Context, revision: &str, exit_77: bool) -> Result<Exit> {
    let args = (revision, Vec::<String>::new()).to_variant();
    let reply = client.os_call("DownloadDeployRpmDiff", &args)?;
    let address = reply.child_value(0).str().unwrap_or_default().to_string();
    txn::run(Some(&client.bus), &address, ctx.quiet)?;
    let reply = client.os_call("GetCachedDeployRpmDiff", &args)?;
    let diff = PkgDiff::from_variant(&reply.child_value(0)).unwrap_or_default();
    if diff.is_empty() {
        return Ok(if exit_77 { Exit::Unchanged } else { Exit::Ok });
    }
    crate::stdout::write(&diff.preview_lines());
    Ok(Exit::Ok)
}

pub(crate) fn run(a: DeployArgs, ctx: &Context) -> Result<Exit> {
    if a.preview && !a.packages.install.is_empty() {
        bail!("Cannot specify both --preview and --install/--uninstall");
    }
    a.packages.refuse()?;
    if a.ex_cliwrap.is_some() {
        bail!("--ex-cliwrap is not supported yet by this rpm-ostree");
    }
    let revision = match (&a.revision, &a.register_driver) {
        (Some(r), _) => r.clone(),
        (None, Some(_)) => String::new(),
        (None, None) => bail!("REVISION must be specified"),
    };
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    if a.preview {
        return preview(&client, ctx, &revision, a.unchanged_exit_77);
    }
    check_update_driver(&client, a.bypass_driver)?;
    let register_only = revision.is_empty();
    let opts = Opts::default()
        .flag("reboot", a.reboot)
        .set("allow-downgrade", !a.disallow_downgrade)
        .flag("cache-only", a.cache_only || register_only)
        .flag("no-pull-base", register_only)
        .flag("download-only", a.download_only)
        .flag("skip-branch-check", a.skip_branch_check)
        .flag("lock-finalization", a.lock_finalization)
        .set("initiating-command-line", ctx.cmdline.as_str())
        .set_opt("register-driver", a.register_driver.as_deref());
    let args = (revision.as_str(), opts).to_variant();
    deployment_transaction(
        &client,
        ctx,
        "Deploy",
        &args,
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: a.unchanged_exit_77,
            hint: RebootHint::Plain,
        },
    )
}
