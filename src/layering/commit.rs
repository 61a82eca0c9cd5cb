//! Committing a layered tree: parent = the base commit, and upstream's
//! `rpmostree.*` metadata (what `status` and `db diff` read, and what a
//! later layering compares its state digest with).

use anyhow::{Context, Result, anyhow};
use gio::prelude::*;
use std::os::fd::AsRawFd;
use std::path::Path;

use super::nevra::Package;
use super::pkglist;
use super::rpmmd::{BasePackage, ResolvedPackage};
use super::selinux::Labeler;

/// Upstream's version of the layered commit format.
const CLIENTLAYER_VERSION: u32 = 6;

/// The metadata key of the state digest.
pub(crate) const STATE_KEY: &str = "rpmostree.state-sha512";

/// What a layered commit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayerMeta {
    pub base: String,
    /// The requested patterns (active ones).
    pub packages: Vec<String>,
    /// Every package of the tree, from its new rpm database.
    pub pkglist: Vec<Package>,
    /// The repositories packages came from: (id, generation timestamp).
    pub repos: Vec<(String, u64)>,
    pub state_digest: String,
    /// The base packages removed.
    pub removed: Vec<BasePackage>,
    /// The base packages replaced by local packages: (_, new, old).
    pub replaced: Vec<Replacement>,
    /// Those replaced from repositories: (source `repo=<id>`, new, old).
    pub replaced_remote: Vec<Replacement>,
}

/// A base package replaced: (its source, the new package, the old one).
pub(crate) type Replacement = (Option<String>, ResolvedPackage, BasePackage);

/// `a(vv)` of replacements: (new, old) NEVRA tuples.
fn replacement_pairs<'a>(list: impl Iterator<Item = &'a Replacement>) -> glib::Variant {
    let pairs: Vec<glib::Variant> = list
        .map(|(_, new, old)| {
            let n = nevra_tuple(
                &new.nevra,
                &new.name,
                new.epoch,
                &new.version,
                &new.release,
                &new.arch,
            );
            // A tuple of Variants is `(vv)`: each wrapped once.
            (n, base_tuple(old)).to_variant()
        })
        .collect();
    glib::Variant::array_from_iter_with_type(
        glib::VariantTy::new("(vv)").expect("valid type"),
        pairs,
    )
}

/// A package as upstream's metadata spells it: `(nevra, name, epoch,
/// version, release, arch)`.
fn nevra_tuple(nevra: &str, name: &str, epoch: u64, v: &str, r: &str, arch: &str) -> glib::Variant {
    (nevra, name, epoch, v, r, arch).to_variant()
}

fn base_tuple(p: &BasePackage) -> glib::Variant {
    nevra_tuple(&p.nevra, &p.name, p.epoch, &p.version, &p.release, &p.arch)
}

/// The state digest of a layering: what was asked, and exactly what was
/// installed (NEVRA and repodata checksum).
pub(crate) fn state_digest(requests: &[String], installed: &[(String, String)]) -> String {
    let mut c = glib::Checksum::new(glib::ChecksumType::Sha512).expect("sha512 exists");
    let mut r = requests.to_vec();
    r.sort();
    for x in &r {
        c.update(b"request:");
        c.update(x.as_bytes());
        c.update(b"\n");
    }
    let mut i = installed.to_vec();
    i.sort();
    for (nevra, sum) in &i {
        c.update(b"install:");
        c.update(nevra.as_bytes());
        c.update(b" ");
        c.update(sum.as_bytes());
        c.update(b"\n");
    }
    c.string().map(|s| s.to_string()).unwrap_or_default()
}

fn metadata(repo: &ostree::Repo, root: &gio::File, m: &LayerMeta) -> Result<glib::Variant> {
    let d = glib::VariantDict::new(None);
    let (base, _) = repo.load_commit(&m.base)?;
    let base_meta = glib::VariantDict::new(Some(&base.child_value(0)));
    if let Some(v) = base_meta.lookup_value("version", Some(glib::VariantTy::STRING)) {
        d.insert_value("version", &v);
    }
    d.insert("rpmostree.clientlayer", true);
    d.insert("rpmostree.clientlayer_version", CLIENTLAYER_VERSION);
    let repos: Vec<glib::Variant> = m
        .repos
        .iter()
        .map(|(id, ts)| {
            let r = glib::VariantDict::new(None);
            r.insert("id", id.as_str());
            r.insert("timestamp", *ts);
            r.end()
        })
        .collect();
    d.insert_value(
        "rpmostree.rpmmd-repos",
        &glib::Variant::array_from_iter_with_type(glib::VariantTy::VARDICT, repos),
    );
    d.insert("rpmostree.packages", m.packages.clone());
    d.insert("rpmostree.modules", Vec::<String>::new());
    let removed: Vec<glib::Variant> = m
        .removed
        .iter()
        .map(|r| base_tuple(r).to_variant())
        .collect();
    d.insert_value(
        "rpmostree.removed-base-packages",
        &glib::Variant::array_from_iter_with_type(glib::VariantTy::VARIANT, removed),
    );
    d.insert_value(
        "rpmostree.replaced-base-packages",
        &replacement_pairs(m.replaced.iter()),
    );
    let remote = glib::VariantDict::new(None);
    let sources: std::collections::BTreeSet<&str> = m
        .replaced_remote
        .iter()
        .filter_map(|(s, _, _)| s.as_deref())
        .collect();
    for source in sources {
        let these = m
            .replaced_remote
            .iter()
            .filter(|(s, _, _)| s.as_deref() == Some(source));
        remote.insert_value(source, &replacement_pairs(these));
    }
    d.insert_value("rpmostree.replaced-base-remote-packages", &remote.end());
    d.insert_value(pkglist::PKGLIST_KEY, &pkglist::to_pkglist(&m.pkglist));
    d.insert(STATE_KEY, m.state_digest.as_str());
    ostree::commit_metadata_for_bootable(root, &d, gio::Cancellable::NONE)?;
    Ok(d.end())
}

/// What a layered commit is made of.
pub(crate) enum Source<'a> {
    /// The tree at `root`, assembled from checkouts recorded in `devino`;
    /// what is not from a checkout is labelled with `labeler`'s policy.
    Checkout {
        root: &'a Path,
        devino: &'a ostree::RepoDevInoCache,
        labeler: Option<Labeler>,
    },
    /// An overlaid tree, with files (path in the tree, local file) whose
    /// content replaces theirs, owner, mode and xattrs kept.
    Overlay {
        mtree: ostree::MutableTree,
        replace: Vec<(String, std::path::PathBuf)>,
    },
}

/// Writes `local` as the new content of the file at `path` of `mtree`.
fn replace_content(
    repo: &ostree::Repo,
    mtree: &ostree::MutableTree,
    path: &str,
    local: &Path,
    cancellable: &gio::Cancellable,
) -> Result<()> {
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let name = parts.pop().ok_or_else(|| anyhow!("Empty path"))?;
    let mut dir = mtree.clone();
    for p in parts {
        dir = dir
            .lookup(p)?
            .1
            .ok_or_else(|| anyhow!("{path}: {p} is not a directory"))?;
    }
    let (old, _) = dir.lookup(name)?;
    let old = old.ok_or_else(|| anyhow!("{path} is not a file"))?;
    let (_, info, xattrs) = repo.load_file(&old, Some(cancellable))?;
    let len = std::fs::metadata(local)?.len();
    info.set_size(i64::try_from(len)?);
    let input = gio::File::for_path(local).read(Some(cancellable))?;
    let (stream, size) =
        ostree::raw_file_to_content_stream(&input, &info, Some(&xattrs), Some(cancellable))?;
    let csum = repo.write_content(None, &stream, size, Some(cancellable))?;
    dir.replace_file(name, &csum.to_hex())?;
    Ok(())
}

/// Commits `source` as the layered commit `m`; returns the new commit.
pub(crate) fn commit(
    repo: &ostree::Repo,
    source: Source,
    m: &LayerMeta,
    cancellable: &gio::Cancellable,
) -> Result<String> {
    in_transaction(repo, cancellable, || {
        let mtree = match source {
            Source::Checkout {
                root,
                devino,
                labeler,
            } => {
                let modifier = ostree::RepoCommitModifier::new(
                    ostree::RepoCommitModifierFlags::DEVINO_CANONICAL,
                    None,
                );
                modifier.set_devino_cache(devino);
                if let Some(l) = labeler {
                    let root = root.to_path_buf();
                    modifier.set_xattr_callback(move |_, path, info| {
                        let on_disk =
                            crate::ffi::xattr::list(&root.join(path.trim_start_matches('/')))
                                .unwrap_or_default();
                        let mode = info.attribute_uint32("unix::mode");
                        l.relabel(on_disk.clone(), path, mode)
                            .unwrap_or(on_disk)
                            .to_variant()
                    });
                }
                tree_of_dir(repo, root, &modifier, cancellable)?
            }
            Source::Overlay { mtree, replace } => {
                for (path, local) in &replace {
                    replace_content(repo, &mtree, path, local, cancellable)
                        .with_context(|| format!("Writing {path}"))?;
                }
                mtree
            }
        };
        let tree = repo.write_mtree(&mtree, Some(cancellable))?;
        let meta = metadata(repo, &tree, m)?;
        let tree = tree
            .downcast::<ostree::RepoFile>()
            .map_err(|_| anyhow!("Not a repository tree"))?;
        let now = glib::DateTime::now_utc()?.to_unix();
        let commit = repo.write_commit_with_time(
            Some(&m.base),
            None,
            None,
            Some(&meta),
            &tree,
            u64::try_from(now).unwrap_or(0),
            Some(cancellable),
        )?;
        Ok(commit.to_string())
    })
}

/// Runs `f` in a repository transaction: committed if `f` succeeds, else
/// aborted (nothing it wrote is referenced).
pub(crate) fn in_transaction<T>(
    repo: &ostree::Repo,
    cancellable: &gio::Cancellable,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    repo.prepare_transaction(Some(cancellable))?;
    let done = f().and_then(|v| {
        repo.commit_transaction(Some(cancellable))?;
        Ok(v)
    });
    if done.is_err() {
        let _ = repo.abort_transaction(gio::Cancellable::NONE);
    }
    done
}

/// The directory `dir` written into the repository (under a transaction),
/// through `modifier`, as a mutable tree.
pub(crate) fn tree_of_dir(
    repo: &ostree::Repo,
    dir: &Path,
    modifier: &ostree::RepoCommitModifier,
    cancellable: &gio::Cancellable,
) -> Result<ostree::MutableTree> {
    let mtree = ostree::MutableTree::new();
    let fd = std::fs::File::open(dir)?;
    repo.write_dfd_to_mtree(
        fd.as_raw_fd(),
        ".",
        &mtree,
        Some(modifier),
        Some(cancellable),
    )?;
    Ok(mtree)
}
