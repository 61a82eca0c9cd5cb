//! `rpm-ostree kargs`: print the kernel arguments, or change them (a new
//! deployment with the new arguments).

use anyhow::{Result, bail};
use glib::prelude::*;

use super::{Context, Opts, Outcome, RebootHint, deployment_transaction};
use crate::client::Exit;
use crate::client::cli::KargsArgs;
use crate::client::connection;

pub(crate) fn run(a: KargsArgs, ctx: &Context) -> Result<Exit> {
    let modifies = !(a.append.is_empty()
        && a.replace.is_empty()
        && a.delete.is_empty()
        && a.append_if_missing.is_empty()
        && a.delete_if_present.is_empty());
    if a.editor {
        if modifies {
            bail!(
                "Cannot specify --editor with --replace, --delete, --append, --append-if-missing or --delete-if-present"
            );
        }
        bail!("--editor is not supported yet by this rpm-ostree");
    }
    if a.reboot && !modifies {
        bail!("Cannot reboot when kernel arguments not changed");
    }
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    let existing = if a.import_proc_cmdline {
        std::fs::read_to_string("/proc/cmdline")?.trim().to_string()
    } else {
        let index = a.deploy_index.clone().unwrap_or_default();
        let conf = client.os_call(
            "GetDeploymentBootConfig",
            &(index.as_str(), true).to_variant(),
        )?;
        glib::VariantDict::new(Some(&conf.child_value(0)))
            .lookup::<String>("options")
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    if !modifies {
        crate::stdout::write(&format!("{existing}\n"));
        return Ok(Exit::Ok);
    }
    let opts = Opts::default()
        .flag("reboot", a.reboot)
        .flag("lock-finalization", a.lock_finalization)
        .set("initiating-command-line", ctx.cmdline.as_str());
    let opts = if a.append_if_missing.is_empty() {
        opts
    } else {
        opts.set("append-if-missing", a.append_if_missing.clone())
    };
    let opts = if a.delete_if_present.is_empty() {
        opts
    } else {
        opts.set("delete-if-present", a.delete_if_present.clone())
    };
    let args = (
        existing.as_str(),
        a.append.clone(),
        a.replace.clone(),
        a.delete.clone(),
        opts,
    )
        .to_variant();
    deployment_transaction(
        &client,
        ctx,
        "KernelArgs",
        &args,
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: a.unchanged_exit_77,
            hint: RebootHint::Queued,
        },
    )
}
