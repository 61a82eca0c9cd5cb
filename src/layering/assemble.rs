//! Assembling a layered tree: a scratch directory in the repository's
//! `tmp/` (same filesystem, so checkouts are hardlinks), the base checked
//! out into it, then each package's pkgcache commit on top (files a package
//! shares with the base or another package must be identical), then the
//! owners and modes of the packages' files that are not root's, on copies
//! (a hardlink is the repository's object and must not change). When no
//! script has to run and every file is root's, no checkout is made: the
//! packages' trees are laid over the base's in a mutable tree instead.

use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::import::{Entry, Placement, place};
use super::pkgcache::CachedPackage;

/// A scratch directory below the repository, removed with whatever is
/// mounted below it when dropped; [`Workdir::sweep`] removes those a killed
/// daemon left.
pub(crate) struct Workdir {
    pub path: PathBuf,
}

const PREFIX: &str = "rpmostree-layer-";

impl Workdir {
    pub(crate) fn new(repo_path: &Path) -> Result<Self> {
        let tmp = repo_path.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        for i in 0..1000u32 {
            let path = tmp.join(format!("{PREFIX}{}-{i}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).with_context(|| format!("Creating {}", path.display())),
            }
        }
        bail!("No free scratch directory in {}", tmp.display())
    }

    /// The tree being assembled.
    pub(crate) fn root(&self) -> PathBuf {
        self.path.join("root")
    }

    /// Removes the scratch directories of layerings that did not finish.
    pub(crate) fn sweep(repo_path: &Path) {
        let Ok(entries) = std::fs::read_dir(repo_path.join("tmp")) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(PREFIX) {
                remove(&e.path());
            }
        }
    }
}

/// Unmounts what is mounted below `dir` (lazily: a dead FUSE server's
/// mount too), then removes it.
fn remove(dir: &Path) {
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let dir = canonical.as_path();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut below: Vec<String> = mounts
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| Path::new(m).starts_with(dir))
        .map(String::from)
        .collect();
    below.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in below {
        let _ = std::process::Command::new("umount")
            .args(["-l", &m])
            .stderr(std::process::Stdio::null())
            .status();
    }
    let _ = std::fs::remove_dir_all(dir);
}

impl Drop for Workdir {
    fn drop(&mut self) {
        remove(&self.path);
    }
}

fn checkout(
    repo: &ostree::Repo,
    commit: &str,
    root: &Path,
    union: bool,
    devino: &ostree::RepoDevInoCache,
    cancellable: &gio::Cancellable,
) -> Result<()> {
    let opts = ostree::RepoCheckoutAtOptions {
        mode: ostree::RepoCheckoutMode::None,
        overwrite_mode: if union {
            ostree::RepoCheckoutOverwriteMode::UnionIdentical
        } else {
            ostree::RepoCheckoutOverwriteMode::None
        },
        no_copy_fallback: true,
        devino_to_csum_cache: Some(devino.clone()),
        ..Default::default()
    };
    repo.checkout_at(Some(&opts), libc::AT_FDCWD, root, commit, Some(cancellable))?;
    Ok(())
}

/// What leaves the base before the packages come: the files of removed
/// base packages and those of their directories left empty (paths in the
/// tree; the directories deepest first).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Removals<'a> {
    pub files: &'a [String],
    pub dirs: &'a [String],
}

/// Checks out `base` into the (absent) directory `root`, takes `removals`
/// out, then checks out `pkgs`.
pub(crate) fn checkout_all(
    repo: &ostree::Repo,
    base: &str,
    removals: Removals,
    pkgs: &[CachedPackage],
    root: &Path,
    devino: &ostree::RepoDevInoCache,
    cancellable: &gio::Cancellable,
) -> Result<()> {
    checkout(repo, base, root, false, devino, cancellable)
        .with_context(|| format!("Checking out {base}"))?;
    remove_from_checkout(root, removals)?;
    for p in pkgs {
        checkout(repo, &p.commit, root, true, devino, cancellable)
            .with_context(|| format!("Checking out {}", p.nevra))?;
    }
    Ok(())
}

/// Replaces `path` (a hardlink into the repository) by a copy of itself.
pub(crate) fn break_hardlink(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() || meta.nlink() < 2 {
        return Ok(());
    }
    let tmp = path.with_file_name(format!(
        ".{}.copy",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::copy(path, &tmp)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// `name` -> id of a passwd or group file.
fn ids(file: &Path) -> BTreeMap<String, u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            Some((name.to_string(), id))
        })
        .collect()
}

/// Gives the files of a package that are not root's their owners (as the
/// tree's `passwd` and `group` in `etc` name them), on copies.
pub(crate) fn apply_owners(root: &Path, etc: &Path, entries: &[Entry]) -> Result<()> {
    let users = ids(&etc.join("passwd"));
    let groups = ids(&etc.join("group"));
    for e in entries {
        if (e.user == "root" && e.group == "root") || e.ghost {
            continue;
        }
        let Placement::Tree(rel) = place(&e.path)? else {
            continue;
        };
        let path = root.join(&rel);
        if std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        let uid = *users
            .get(&e.user)
            .ok_or_else(|| anyhow!("{}: unknown user '{}'", e.path, e.user))?;
        let gid = *groups
            .get(&e.group)
            .ok_or_else(|| anyhow!("{}: unknown group '{}'", e.path, e.group))?;
        break_hardlink(&path)?;
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid))
            .with_context(|| format!("Changing the owner of {}", e.path))?;
        // chown drops setuid/setgid: the header's mode again.
        if !std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(e.mode & 0o7777))?;
        }
    }
    Ok(())
}

/// The tree of commit `base` with the trees of `pkgs` laid over it, as a
/// mutable tree whose directories are loaded only where a package adds to
/// them: what the checkouts give (same union rule: a file already there
/// must be identical; the base's directories keep their metadata), without
/// writing a file, when nothing has to run in the tree.
pub(crate) fn overlay(
    repo: &ostree::Repo,
    base: &str,
    removals: Removals,
    pkgs: &[CachedPackage],
) -> Result<ostree::MutableTree> {
    let mtree = ostree::MutableTree::from_commit(repo, base)
        .with_context(|| format!("Loading the tree of {base}"))?;
    remove_from_overlay(&mtree, removals)?;
    for p in pkgs {
        let (commit, _) = repo.load_commit(&p.commit)?;
        let tree = ostree::checksum_from_bytes_v(&commit.child_value(6));
        merge_dirtree(repo, &mtree, &tree, "")
            .with_context(|| format!("Checking out {}", p.nevra))?;
    }
    Ok(mtree)
}

type Child = (Option<glib::GString>, Option<ostree::MutableTree>);

/// The entry `name` of `dir`; `None` if it has none.
fn lookup(dir: &ostree::MutableTree, name: &str) -> Result<Option<Child>> {
    match dir.lookup(name) {
        Ok(found) => Ok(Some(found)),
        Err(e) if e.matches(gio::IOErrorEnum::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn merge_dirtree(
    repo: &ostree::Repo,
    into: &ostree::MutableTree,
    tree: &str,
    path: &str,
) -> Result<()> {
    let v = repo.load_variant(ostree::ObjectType::DirTree, tree)?;
    let files = v.child_value(0);
    for i in 0..files.n_children() {
        let f = files.child_value(i);
        let name = f.child_value(0).str().unwrap_or_default().to_string();
        let csum = ostree::checksum_from_bytes_v(&f.child_value(1));
        match lookup(into, &name)? {
            Some((Some(existing), None)) if existing != csum => {
                bail!("{path}/{name} is already in the tree, with other content")
            }
            Some((None, Some(_))) => bail!("{path}/{name} is a directory in the tree"),
            _ => into.replace_file(&name, &csum)?,
        }
    }
    let dirs = v.child_value(1);
    for i in 0..dirs.n_children() {
        let d = dirs.child_value(i);
        let name = d.child_value(0).str().unwrap_or_default().to_string();
        let contents = ostree::checksum_from_bytes_v(&d.child_value(1));
        let meta = ostree::checksum_from_bytes_v(&d.child_value(2));
        let sub_path = format!("{path}/{name}");
        match lookup(into, &name)? {
            Some((_, Some(sub))) => merge_dirtree(repo, &sub, &contents, &sub_path)?,
            Some(_) => bail!("{sub_path} is a file in the tree"),
            None => {
                let sub = into.ensure_dir(&name)?;
                if !sub.fill_empty_from_dirtree(repo, &contents, &meta) {
                    bail!("{sub_path}: could not add the directory");
                }
            }
        }
    }
    Ok(())
}

/// The directory of the tree `mtree` holding `rel`, and `rel`'s name in it.
fn parent_of<'a>(
    mtree: &ostree::MutableTree,
    rel: &'a str,
) -> Result<Option<(ostree::MutableTree, &'a str)>> {
    let mut parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let Some(name) = parts.pop() else {
        return Ok(None);
    };
    let mut dir = mtree.clone();
    for p in parts {
        match lookup(&dir, p)? {
            Some((_, Some(sub))) => dir = sub,
            _ => return Ok(None),
        }
    }
    Ok(Some((dir, name)))
}

/// Takes `removals` out of the tree `mtree`.
fn remove_from_overlay(mtree: &ostree::MutableTree, removals: Removals) -> Result<()> {
    for rel in removals.files {
        if let Some((dir, name)) = parent_of(mtree, rel)?
            && matches!(lookup(&dir, name)?, Some((Some(_), None)))
        {
            dir.remove(name, true)?;
        }
    }
    for rel in removals.dirs {
        if let Some((dir, name)) = parent_of(mtree, rel)?
            && let Some((_, Some(sub))) = lookup(&dir, name)?
            && sub.copy_files().is_empty()
            && sub.copy_subdirs().is_empty()
        {
            dir.remove(name, true)?;
        }
    }
    Ok(())
}

/// The same in the checkout at `root`.
fn remove_from_checkout(root: &Path, removals: Removals) -> Result<()> {
    for rel in removals.files {
        let p = root.join(rel);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if !m.is_dir() => {
                std::fs::remove_file(&p).with_context(|| format!("Removing {rel}"))?
            }
            _ => {}
        }
    }
    for rel in removals.dirs {
        // Only an empty one goes.
        let _ = std::fs::remove_dir(root.join(rel));
    }
    Ok(())
}
