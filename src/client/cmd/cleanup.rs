//! `rpm-ostree cleanup`: remove pending/rollback deployments, prune, clear caches.

use anyhow::{Result, anyhow, bail};
use glib::prelude::*;

use super::{Context, simple_transaction};
use crate::client::Exit;
use crate::client::cli::CleanupArgs;
use crate::client::connection;

pub(crate) fn run(a: CleanupArgs, ctx: &Context) -> Result<Exit> {
    let mut elements = Vec::new();
    for (set, name) in [
        (a.base, "base"),
        (a.pending, "pending-deploy"),
        (a.rollback, "rollback-deploy"),
        (a.repomd, "repomd"),
    ] {
        if set {
            elements.push(name);
        }
    }
    if elements.is_empty() {
        bail!("At least one cleanup option must be specified");
    }
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    simple_transaction(&client, ctx, "Cleanup", &(elements,).to_variant())
        .map_err(|e| anyhow!("cleanup: {e:#}"))?;
    Ok(Exit::Ok)
}
