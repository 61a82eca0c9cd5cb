//! `rpm-ostree rollback`: make the previous deployment the default again.

use anyhow::Result;
use glib::prelude::*;

use super::{Context, Opts, Outcome, RebootHint, deployment_transaction};
use crate::client::Exit;
use crate::client::cli::RollbackArgs;
use crate::client::connection;

pub(crate) fn run(a: RollbackArgs, ctx: &Context) -> Result<Exit> {
    let client = connection::connect(&a.daemon, None)?;
    let opts = Opts::default().flag("reboot", a.reboot);
    deployment_transaction(
        &client,
        ctx,
        "Rollback",
        &(opts,).to_variant(),
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: false,
            hint: RebootHint::Queued,
        },
    )
}
