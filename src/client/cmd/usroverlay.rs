//! `rpm-ostree usroverlay` (alias `unlock`): a transient writable /usr, which is
//! libostree's `ostree admin unlock`.

use anyhow::{Context as _, Result, bail};
use std::os::unix::process::CommandExt;

use crate::client::Exit;
use crate::client::cli::UsroverlayArgs;

pub(crate) fn run(a: UsroverlayArgs) -> Result<Exit> {
    if !rustix::process::geteuid().is_root() {
        bail!("This command requires root privileges");
    }
    let err = std::process::Command::new("ostree")
        .args(["admin", "unlock"])
        .args(&a.args)
        .exec();
    Err(err).context("Running ostree admin unlock")
}
