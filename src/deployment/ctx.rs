//! What every operation on a sysroot works with: the sysroot (loaded, its
//! lock held by whoever built this), where it is, cancellation coming in and
//! progress going out.

use anyhow::Result;
use gio::prelude::*;
use std::path::{Path, PathBuf};

use crate::progress::ProgressSink;

pub(crate) struct Ctx {
    /// A private sysroot, loaded, with the sysroot lock held.
    pub sysroot: ostree::Sysroot,
    pub sysroot_path: PathBuf,
    /// The daemon's runtime directory (`/run/rpm-ostree`).
    pub runtime_dir: PathBuf,
    pub cancellable: gio::Cancellable,
    pub progress: ProgressSink,
}

impl Ctx {
    /// Fails with the cancellation error if the work was cancelled.
    pub(crate) fn check_cancelled(&self) -> Result<()> {
        self.cancellable.set_error_if_cancelled()?;
        Ok(())
    }

    /// True if the sysroot is the root filesystem (booted-style operation).
    pub(crate) fn is_root(&self) -> bool {
        self.sysroot_path == Path::new("/")
    }

    /// True when new deployments are staged (a booted system managed at `/`).
    pub(crate) fn stages(&self) -> bool {
        self.is_root() && self.sysroot.booted_deployment().is_some()
    }
}
