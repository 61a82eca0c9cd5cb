//! Package diffs between two commits of a repository, as the daemon asks for
//! them: computed in a helper process (`rpm-ostreed internal-pkgdiff`), so
//! that reading rpm databases (megabytes of headers) never grows the daemon's
//! heap; the answer is the small list of changes.

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::diff::diff;
use super::pkglist::commit_packages;
use crate::helper::{Helper, protocol};
use crate::pkgdiff::PkgDiff;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DiffRequest {
    repo: PathBuf,
    from: String,
    to: String,
}

/// The changes from commit `from` to commit `to` of `repo` (in this process).
pub(crate) fn diff_in_repo(repo: &ostree::Repo, from: &str, to: &str) -> Result<PkgDiff> {
    let old = commit_packages(repo, from).context("Loading package list")?;
    let new = commit_packages(repo, to).context("Loading package list")?;
    Ok(diff(&old, &new))
}

/// A package diff being computed by the helper.
pub(crate) struct PendingDiff(Helper<(), serde_json::Value>);

impl PendingDiff {
    /// Starts computing the changes from commit `from` to commit `to` of the
    /// repository at `repo`; `cancellable` kills the helper.
    pub(crate) fn start(
        repo: &Path,
        from: &str,
        to: &str,
        cancellable: &gio::Cancellable,
    ) -> Result<Self> {
        let request = DiffRequest {
            repo: repo.to_path_buf(),
            from: from.to_string(),
            to: to.to_string(),
        };
        Helper::spawn("internal-pkgdiff", &request, cancellable).map(Self)
    }

    pub(crate) fn wait(self) -> Result<PkgDiff> {
        let reply = self.0.wait(Duration::from_secs(300), |()| {})?;
        PkgDiff::from_json(&reply)
            .ok_or_else(|| anyhow!("The package diff helper answered nonsense"))
    }
}

/// The changes from commit `from` to commit `to` of the repository at
/// `repo`, computed by the helper.
pub(crate) fn diff_commits(
    repo: &Path,
    from: &str,
    to: &str,
    cancellable: &gio::Cancellable,
) -> Result<PkgDiff> {
    PendingDiff::start(repo, from, to, cancellable)?.wait()
}

/// Entry point of the helper `rpm-ostreed internal-pkgdiff`.
pub fn helper_main() -> ExitCode {
    protocol::serve(|req: DiffRequest, _: &protocol::Emitter<()>| {
        let repo = ostree::Repo::new_for_path(&req.repo);
        repo.open(gio::Cancellable::NONE)
            .with_context(|| format!("Opening repository {}", req.repo.display()))?;
        Ok(diff_in_repo(&repo, &req.from, &req.to)?.to_json())
    })
}
