//! Revisions (`deploy REVISION`, `set-revision`) and rebase targets: parsing
//! their forms, walking a branch's history for a version or a checksum, and
//! resolving a partial rebase refspec against the current one.

use anyhow::{Result, anyhow, bail};

use super::refspec::{Refspec, is_checksum};
use super::status::commit_info;

/// What `set-revision` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Revision {
    Checksum(String),
    Version(String),
}

impl Revision {
    /// `revision=<csum>` / `version=<v>` (prefixes case-insensitive), a bare
    /// 64-hex checksum, or else a version.
    pub(crate) fn parse(s: &str) -> Self {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("revision=") {
            return Self::Checksum(s["revision=".len()..].to_string());
        }
        if lower.starts_with("version=") {
            return Self::Version(s["version=".len()..].to_string());
        }
        if is_checksum(s) {
            Self::Checksum(s.to_string())
        } else {
            Self::Version(s.to_string())
        }
    }
}

/// Walks the history of `rev` (newest first) until `pred` matches a commit;
/// stops at the first commit whose parent is not in the repository.
pub(crate) fn find_in_history(
    repo: &ostree::Repo,
    rev: &str,
    mut pred: impl FnMut(&str, Option<&str>) -> bool,
) -> Result<Option<String>> {
    let mut cur = repo.resolve_rev(rev, true)?.map(|c| c.to_string());
    let mut guard = 0usize;
    while let Some(csum) = cur {
        let Some(commit) = repo.load_variant_if_exists(ostree::ObjectType::Commit, &csum)? else {
            break;
        };
        let version = commit_info(repo, &csum).and_then(|i| i.version);
        if pred(&csum, version.as_deref()) {
            return Ok(Some(csum));
        }
        cur = ostree::commit_get_parent(&commit).map(|p| p.to_string());
        guard += 1;
        if guard > 100_000 {
            bail!("History of {rev} is too long");
        }
    }
    Ok(None)
}

/// The newest commit of `rev`'s history with version `version`.
pub(crate) fn resolve_version(repo: &ostree::Repo, rev: &str, version: &str) -> Result<String> {
    find_in_history(repo, rev, |_, v| v == Some(version))?
        .ok_or_else(|| anyhow!("Version {version} not found in {rev}"))
}

/// The newest commit of `rev`'s history, as far as the repository has it,
/// with version `version` (nothing is pulled).
pub(crate) fn cached_version(repo: &ostree::Repo, rev: &str, version: &str) -> Result<String> {
    find_in_history(repo, rev, |_, v| v == Some(version))?
        .ok_or_else(|| anyhow!("Version {version} not cached in {rev}"))
}

/// Checks that `csum` is in `rev`'s history.
pub(crate) fn check_on_branch(repo: &ostree::Repo, rev: &str, csum: &str) -> Result<()> {
    find_in_history(repo, rev, |c, _| c == csum)?
        .map(|_| ())
        .ok_or_else(|| anyhow!("Checksum {csum} not found in {rev}"))
}

/// The result of resolving a rebase target against the current refspec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RebaseTarget {
    pub refspec: String,
    /// Only the remote changed (`remote:` form).
    pub remote_only: bool,
}

/// Resolves `target` (`remote:ref`, `remote:`, `:ref`, `ref`, a checksum, with an
/// optional `ostree://` prefix) against the `current` refspec; a target equal
/// to the current refspec is refused.
pub(crate) fn resolve_rebase(current: &str, target: &str) -> Result<RebaseTarget> {
    let t = complete_refspec(current, target)?;
    if t.refspec == current {
        bail!("Old and new refs are equal: {}", t.refspec);
    }
    Ok(t)
}

/// Completes a partial refspec `target` with what `current` has.
pub(crate) fn complete_refspec(current: &str, target: &str) -> Result<RebaseTarget> {
    let target = target.strip_prefix("ostree://").unwrap_or(target);
    if target.is_empty() {
        bail!("Refspec is empty");
    }
    let cur = Refspec::parse(current);
    let (cur_remote, cur_branch) = match &cur {
        Refspec::Ref { remote, branch } => (remote.clone(), Some(branch.clone())),
        _ => (None, None),
    };
    let (refspec, remote_only) = if is_checksum(target) {
        (target.to_string(), false)
    } else if let Some(remote) = target.strip_suffix(':').filter(|r| !r.contains(':')) {
        let branch =
            cur_branch.ok_or_else(|| anyhow!("Could not determine default ref to pull."))?;
        (format!("{remote}:{branch}"), true)
    } else if let Some(branch) = target.strip_prefix(':') {
        (branch.to_string(), false)
    } else if target.contains(':') {
        (target.to_string(), false)
    } else {
        match cur_remote {
            Some(r) => (format!("{r}:{target}"), false),
            None => (target.to_string(), false),
        }
    };
    Ok(RebaseTarget {
        refspec,
        remote_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_forms() {
        let c = "b".repeat(64);
        assert_eq!(Revision::parse(&c), Revision::Checksum(c.clone()));
        assert_eq!(
            Revision::parse(&format!("REVISION={c}")),
            Revision::Checksum(c.clone())
        );
        assert_eq!(Revision::parse("version=2"), Revision::Version("2".into()));
        assert_eq!(Revision::parse("Version=2"), Revision::Version("2".into()));
        assert_eq!(Revision::parse("39.1"), Revision::Version("39.1".into()));
    }

    #[test]
    fn rebase_forms() {
        let cur = "testremote:testos/stable/x86_64";
        let r = |t: &str| resolve_rebase(cur, t);
        assert_eq!(r("other:os/b").unwrap().refspec, "other:os/b");
        assert_eq!(r("ostree://other:os/b").unwrap().refspec, "other:os/b");
        assert_eq!(
            r("otherremote:").unwrap(),
            RebaseTarget {
                refspec: "otherremote:testos/stable/x86_64".into(),
                remote_only: true
            }
        );
        assert_eq!(r(":local/ref").unwrap().refspec, "local/ref");
        assert_eq!(
            r("testos/other/x86_64").unwrap().refspec,
            "testremote:testos/other/x86_64"
        );
        let c = "c".repeat(64);
        assert_eq!(r(&c).unwrap().refspec, c);
        assert_eq!(
            r("testremote:testos/stable/x86_64")
                .unwrap_err()
                .to_string(),
            "Old and new refs are equal: testremote:testos/stable/x86_64"
        );
        assert_eq!(r("").unwrap_err().to_string(), "Refspec is empty");
        assert_eq!(
            resolve_rebase("local/ref", "other/ref").unwrap().refspec,
            "other/ref"
        );
    }
}
