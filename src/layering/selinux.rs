//! SELinux labels of what layering writes, with the policy of the tree it
//! layers on (none in the tree: no labels, as upstream). A path is labelled
//! where it is seen at run time: `/usr/etc/x` as `/etc/x`. The checksum of
//! the policy is what a pkgcache commit records (`rpmostree.sepolicy`): a
//! cached package labelled with another policy is labelled again.

use anyhow::{Context, Result};

/// The name of the xattr, as ostree's xattr lists spell it (with its NUL).
const XATTR: &[u8] = b"security.selinux\0";

/// A tree's policy.
#[derive(Clone)]
pub(crate) struct Labeler {
    policy: ostree::SePolicy,
    pub csum: String,
}

impl std::fmt::Debug for Labeler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Labeler({})", self.csum)
    }
}

/// The policy of commit `rev`, if its tree has one.
pub(crate) fn of_commit(repo: &ostree::Repo, rev: &str) -> Result<Option<Labeler>> {
    let policy = ostree::SePolicy::from_commit(repo, rev, gio::Cancellable::NONE)
        .with_context(|| format!("Loading the SELinux policy of {rev}"))?;
    if policy.name().is_none() {
        return Ok(None);
    }
    let csum = policy.csum().map(|c| c.to_string()).unwrap_or_default();
    Ok(Some(Labeler { policy, csum }))
}

/// Where `path` (absolute, in an ostree tree) is at run time.
fn runtime_path(path: &str) -> String {
    match path.strip_prefix("/usr/etc") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/etc{rest}"),
        _ => path.to_string(),
    }
}

impl Labeler {
    /// The label of `path` (absolute, in the tree) of type `mode`.
    pub(crate) fn label(&self, path: &str, mode: u32) -> Result<Option<String>> {
        let label = self
            .policy
            .label(&runtime_path(path), mode, gio::Cancellable::NONE)
            .with_context(|| format!("Looking up the SELinux label of {path}"))?;
        Ok(label.map(|l| l.to_string()))
    }

    /// `xattrs` (name, value; ostree's spelling) with the label of `path`
    /// instead of any it had.
    pub(crate) fn relabel(
        &self,
        mut xattrs: Vec<(Vec<u8>, Vec<u8>)>,
        path: &str,
        mode: u32,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        xattrs.retain(|(name, _)| name.as_slice() != XATTR);
        if let Some(label) = self.label(path, mode)? {
            let mut value = label.into_bytes();
            value.push(0);
            xattrs.push((XATTR.to_vec(), value));
        }
        Ok(xattrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usr_etc_is_labelled_as_etc() {
        assert_eq!(runtime_path("/usr/etc/x.conf"), "/etc/x.conf");
        assert_eq!(runtime_path("/usr/etc"), "/etc");
        assert_eq!(runtime_path("/usr/etcetera"), "/usr/etcetera");
        assert_eq!(runtime_path("/usr/bin/x"), "/usr/bin/x");
    }
}
