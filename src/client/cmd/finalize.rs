//! `rpm-ostree finalize-deployment [CHECKSUM]`: release the staged deployment's
//! finalization lock and reboot into it.

use anyhow::{Result, bail};
use glib::prelude::*;

use super::{Context, Opts, simple_transaction};
use crate::client::Exit;
use crate::client::cli::FinalizeArgs;
use crate::client::connection;

pub(crate) fn run(a: FinalizeArgs, ctx: &Context) -> Result<Exit> {
    if a.checksum.is_none() && !a.allow_missing_checksum {
        bail!(
            "Must specify the expected CHECKSUM of the staged deployment, or --allow-missing-checksum"
        );
    }
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    let opts = Opts::default()
        .set_opt("checksum", a.checksum.clone())
        .flag("allow-missing-checksum", a.allow_missing_checksum)
        .flag("allow-unlocked", a.allow_unlocked)
        .set("initiating-command-line", ctx.cmdline.as_str());
    simple_transaction(&client, ctx, "FinalizeDeployment", &(opts,).to_variant())?;
    Ok(Exit::Ok)
}
