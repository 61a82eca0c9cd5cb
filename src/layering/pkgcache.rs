//! The pkgcache: one commit per imported package, on the ref
//! `rpmostree/pkg/<name>/<evr>.<arch>` (upstream's names and escaping, so
//! that upstream and this daemon share it), reused by every layering that
//! needs the same package from the same repodata.

use anyhow::{Result, anyhow};
use std::collections::{BTreeMap, BTreeSet};

/// The refs of the pkgcache, below this prefix.
pub(crate) const PREFIX: &str = "rpmostree/pkg/";

/// A package in the pkgcache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CachedPackage {
    pub nevra: String,
    pub name: String,
    pub cache_ref: String,
    pub commit: String,
    /// The repodata checksum of the package file imported (`sha256:...`).
    pub checksum: String,
    /// The checksum of the SELinux policy its files are labelled with.
    pub sepolicy: Option<String>,
}

/// Upstream's escaping of a ref component: `[A-Za-z0-9.-]` as they are,
/// `_` doubled, every other byte as `_XX` (hex).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' => out.push(char::from(b)),
            b'_' => out.push_str("__"),
            _ => out.push_str(&format!("_{b:02X}")),
        }
    }
    out
}

/// The pkgcache ref of a package; `evr` leaves out a zero epoch.
pub(crate) fn cache_ref(name: &str, evr: &str, arch: &str) -> String {
    format!(
        "{PREFIX}{}/{}",
        escape(name),
        escape(&format!("{evr}.{arch}"))
    )
}

/// The packages of the pkgcache of `repo`, by NEVRA (complete commits only).
pub(crate) fn index(repo: &ostree::Repo) -> Result<BTreeMap<String, CachedPackage>> {
    let refs = repo.list_refs_ext(
        Some(PREFIX.trim_end_matches('/')),
        ostree::RepoListRefsExtFlags::NONE,
        gio::Cancellable::NONE,
    )?;
    let mut out = BTreeMap::new();
    for (r, commit) in refs {
        let full = if r.starts_with(PREFIX) {
            r
        } else {
            format!("{PREFIX}{r}")
        };
        let Ok((v, state)) = repo.load_commit(&commit) else {
            continue;
        };
        if state.contains(ostree::RepoCommitState::PARTIAL) {
            continue;
        }
        let meta = glib::VariantDict::new(Some(&v.child_value(0)));
        let nevra = meta
            .lookup_value("rpmostree.nevra", None)
            .and_then(|t| t.child_value(0).str().map(String::from));
        let name = meta
            .lookup_value("rpmostree.nevra", None)
            .and_then(|t| t.child_value(1).str().map(String::from));
        let checksum = meta
            .lookup::<String>("rpmostree.repodata_checksum")
            .ok()
            .flatten();
        let sepolicy = meta.lookup::<String>("rpmostree.sepolicy").ok().flatten();
        if let (Some(nevra), Some(name)) = (nevra, name) {
            out.insert(
                nevra.clone(),
                CachedPackage {
                    nevra,
                    name,
                    cache_ref: full,
                    commit,
                    checksum: checksum.unwrap_or_default(),
                    sepolicy,
                },
            );
        }
    }
    Ok(out)
}

impl CachedPackage {
    /// The RPM header (lead + signature + header) its commit keeps, and the
    /// header parsed.
    pub(crate) fn header(&self, repo: &ostree::Repo) -> Result<(Vec<u8>, rpm::PackageMetadata)> {
        let (c, _) = repo.load_commit(&self.commit)?;
        let bytes = glib::VariantDict::new(Some(&c.child_value(0)))
            .lookup_value("rpmostree.metadata", Some(glib::VariantTy::BYTE_STRING))
            .ok_or_else(|| anyhow!("The pkgcache commit of {} has no header", self.nevra))?
            .fixed_array::<u8>()?
            .to_vec();
        let meta = rpm::PackageMetadata::parse(&mut std::io::Cursor::new(&bytes))
            .map_err(|e| anyhow!("Reading the header of {}: {e}", self.nevra))?;
        Ok((bytes, meta))
    }
}

/// Deletes the pkgcache refs not in `keep` (the packages some deployment
/// uses); returns how many went.
pub(crate) fn prune_refs(repo: &ostree::Repo, keep: &BTreeSet<String>) -> Result<usize> {
    let mut n = 0;
    for p in index(repo)?.into_values() {
        if !keep.contains(&p.cache_ref) {
            repo.set_ref_immediate(None, &p.cache_ref, None, gio::Cancellable::NONE)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Deletes the pkgcache refs that no deployment of `sysroot` (loaded as it
/// is now) uses: every package of a layered deployment's commit is kept.
/// Returns how many went.
pub(crate) fn gc(sysroot: &ostree::Sysroot) -> Result<usize> {
    let repo = sysroot.repo();
    let mut used = BTreeSet::new();
    for d in sysroot.deployments() {
        let Ok((c, _)) = repo.load_commit(&d.csum()) else {
            continue;
        };
        let meta = glib::VariantDict::new(Some(&c.child_value(0)));
        if !meta.contains("rpmostree.clientlayer") {
            continue;
        }
        if let Some(list) = meta.lookup_value(super::pkglist::PKGLIST_KEY, None)
            && let Ok(pkgs) = super::pkglist::from_pkglist(&list)
        {
            used.extend(pkgs.iter().map(|p| p.nevra()));
        }
    }
    let keep: BTreeSet<String> = index(&repo)?
        .into_values()
        .filter(|p| used.contains(&p.nevra))
        .map(|p| p.cache_ref)
        .collect();
    prune_refs(&repo, &keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_escaped_as_upstream_escapes_them() {
        assert_eq!(
            cache_ref("tp-app", "1.0-1", "noarch"),
            "rpmostree/pkg/tp-app/1.0-1.noarch"
        );
        assert_eq!(
            cache_ref("perl", "4:5.16.3-291.el7", "x86_64"),
            "rpmostree/pkg/perl/4_3A5.16.3-291.el7.x86__64"
        );
        assert_eq!(escape("a+b"), "a_2Bb");
    }
}
