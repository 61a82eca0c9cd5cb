//! Cleaning the sysroot: libostree's cleanup of old boot versions and
//! deployments, then libostree's prune of the system repository (refs-only,
//! depth 0, every deployment kept: what `ostree admin cleanup` does), which
//! runs in a helper process (`rpm-ostreed internal-prune`) so that its
//! bookkeeping of every reachable object never stays in the daemon's heap.
//! While a new deployment is staged, the prune can run beside it, keeping
//! the commit being staged.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::Ctx;
use crate::ffi::ostree::Pruned;
use crate::helper::{Helper, protocol};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PruneRequest {
    sysroot: PathBuf,
    /// Commits to keep besides the refs and the deployments.
    extra_roots: Vec<String>,
}

/// A prune running in a helper process.
pub(crate) struct Background(Helper<(), Pruned>);

impl Background {
    /// Starts pruning the repository of the sysroot at `sysroot_path`,
    /// keeping `extra_roots` too.
    pub(crate) fn start(
        sysroot_path: &Path,
        extra_roots: &[&str],
        cancellable: &gio::Cancellable,
    ) -> Result<Self> {
        let request = PruneRequest {
            sysroot: sysroot_path.to_path_buf(),
            extra_roots: extra_roots.iter().map(|s| s.to_string()).collect(),
        };
        Helper::spawn("internal-prune", &request, cancellable)
            .map(Self)
            .context("Starting the prune")
    }

    /// Waits for the prune to end; cancellation kills it.
    pub(crate) fn wait(self) -> Result<Pruned> {
        self.0
            .wait(Duration::MAX, |()| {})
            .context("Pruning the repository")
    }
}

/// The whole cleanup: old boot versions and deployments, then the prune.
pub(crate) fn cleanup_sysroot(ctx: &Ctx) -> Result<Pruned> {
    ctx.sysroot
        .prepare_cleanup(Some(&ctx.cancellable))
        .context("Cleaning up the sysroot")?;
    Background::start(&ctx.sysroot_path, &[], &ctx.cancellable)?.wait()
}

/// The message upstream prints after a prune that freed something.
pub(crate) fn freed_message(p: &Pruned) -> Option<String> {
    (p.freed > 0).then(|| {
        format!(
            "Freed: {} (pkgcache branches: 0)",
            glib::format_size(p.freed)
        )
    })
}

fn prune(req: PruneRequest) -> Result<Pruned> {
    let sysroot = ostree::Sysroot::new(Some(&gio::File::for_path(&req.sysroot)));
    sysroot
        .load(gio::Cancellable::NONE)
        .with_context(|| format!("Loading sysroot {}", req.sysroot.display()))?;
    Ok(crate::ffi::ostree::cleanup_prune_repo(
        &sysroot,
        &req.extra_roots,
        &gio::Cancellable::new(),
    )?)
}

/// Entry point of the helper `rpm-ostreed internal-prune`.
pub fn helper_main() -> ExitCode {
    protocol::serve(|req: PruneRequest, _: &protocol::Emitter<()>| prune(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(freed_message(&Pruned::default()), None);
        let p = Pruned {
            total: 10,
            pruned: 2,
            freed: 2048,
        };
        assert_eq!(
            freed_message(&p).unwrap(),
            "Freed: 2.0\u{a0}kB (pkgcache branches: 0)"
        );
    }
}
