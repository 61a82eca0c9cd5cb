//! Cleaning the sysroot, as `ostree admin cleanup` does it: libostree's
//! cleanup of old boot versions and deployments, then libostree's prune of
//! the system repository (refs-only, depth 0, every deployment kept). It runs
//! in a helper process (`rpm-ostreed internal-cleanup`), so that its
//! bookkeeping of every reachable object never stays in the daemon's heap;
//! the helper can be started before the work that precedes the cleanup (it
//! waits for its request), taking its start-up off the critical path. The
//! caller holds the sysroot lock throughout.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::Ctx;
use crate::ffi::ostree::Pruned;
use crate::helper::{Helper, protocol};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CleanupRequest {
    sysroot: PathBuf,
}

/// A cleanup helper, started and waiting for its request.
pub(crate) struct Cleanup(Helper<(), Pruned>);

impl Cleanup {
    /// Starts the helper; cancellation kills it.
    pub(crate) fn start(cancellable: &gio::Cancellable) -> Result<Self> {
        Helper::start("internal-cleanup", cancellable)
            .map(Self)
            .context("Starting the cleanup")
    }

    /// Cleans the sysroot at `sysroot_path` (as it is now) and waits.
    pub(crate) fn run(mut self, sysroot_path: &Path) -> Result<Pruned> {
        let request = CleanupRequest {
            sysroot: sysroot_path.to_path_buf(),
        };
        self.0.send(&request)?;
        self.0
            .wait(Duration::MAX, |()| {})
            .context("Cleaning up the sysroot")
    }
}

/// Starts the cleanup helper and runs it.
pub(crate) fn cleanup_sysroot(ctx: &Ctx) -> Result<Pruned> {
    Cleanup::start(&ctx.cancellable)?.run(&ctx.sysroot_path)
}

/// The message upstream prints after a prune that freed something
/// (`branches`: the pkgcache refs deleted before it).
pub(crate) fn freed_message(p: &Pruned, branches: usize) -> Option<String> {
    (p.freed > 0 || branches > 0).then(|| {
        format!(
            "Freed: {} (pkgcache branches: {branches})",
            glib::format_size(p.freed)
        )
    })
}

fn cleanup(req: CleanupRequest) -> Result<Pruned> {
    let sysroot = ostree::Sysroot::new(Some(&gio::File::for_path(&req.sysroot)));
    sysroot
        .load(gio::Cancellable::NONE)
        .with_context(|| format!("Loading sysroot {}", req.sysroot.display()))?;
    sysroot
        .prepare_cleanup(gio::Cancellable::NONE)
        .context("Cleaning up the sysroot")?;
    sync_base_refs(&sysroot).context("Writing the refs of base commits")?;
    let pruned = crate::ffi::ostree::cleanup_prune_repo(&sysroot, &gio::Cancellable::new())
        .context("Pruning the repository")?;
    Ok(pruned)
}

/// Upstream's `rpmostree/base/N` refs: one per base commit (the parent) of
/// a layered deployment, so that the prune keeps the bases too (libostree
/// keeps the deployments' own commits only). New ones are written before
/// stale ones go, so an interruption only ever leaves one too many.
fn sync_base_refs(sysroot: &ostree::Sysroot) -> Result<()> {
    const PREFIX: &str = "rpmostree/base/";
    let repo = sysroot.repo();
    let mut bases: Vec<String> = Vec::new();
    for d in sysroot.deployments() {
        let Ok((commit, _)) = repo.load_commit(&d.csum()) else {
            continue;
        };
        if let Some(base) = super::status::layered_base_of(&commit)
            && !bases.contains(&base)
        {
            bases.push(base);
        }
    }
    let existing: std::collections::HashMap<String, String> = repo
        .list_refs_ext(
            Some(PREFIX.trim_end_matches('/')),
            ostree::RepoListRefsExtFlags::NONE,
            gio::Cancellable::NONE,
        )?
        .into_iter()
        .map(|(r, c)| match r.starts_with(PREFIX) {
            true => (r, c),
            false => (format!("{PREFIX}{r}"), c),
        })
        .collect();
    let mut wanted = Vec::new();
    for (i, base) in bases.iter().enumerate() {
        let name = format!("{PREFIX}{i}");
        if existing.get(&name).map(|c| c.as_str()) != Some(base.as_str()) {
            repo.set_ref_immediate(None, &name, Some(base), gio::Cancellable::NONE)?;
        }
        wanted.push(name);
    }
    for name in existing.keys() {
        if !wanted.contains(name) {
            repo.set_ref_immediate(None, name, None, gio::Cancellable::NONE)?;
        }
    }
    Ok(())
}

/// Entry point of the helper `rpm-ostreed internal-cleanup`.
pub fn helper_main() -> ExitCode {
    protocol::serve(|req: CleanupRequest, _: &protocol::Emitter<()>| cleanup(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(freed_message(&Pruned::default(), 0), None);
        let p = Pruned {
            total: 10,
            pruned: 2,
            freed: 2048,
        };
        assert_eq!(
            freed_message(&p, 3).unwrap(),
            "Freed: 2.0\u{a0}kB (pkgcache branches: 3)"
        );
    }
}
