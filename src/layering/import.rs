//! Importing an RPM into the repository as its own commit on the pkgcache
//! ref `rpmostree/pkg/<name>/<evr>.<arch>`, laid out as upstream lays it out
//! so that either can reuse the other's imports: `/etc` under `/usr/etc`,
//! `/opt` under `/usr/lib/opt`, `/boot` under `/usr/lib/ostree-boot`,
//! `/var` and `/run` as tmpfiles.d lines, everything owned by root (owners
//! are applied at assembly), file capabilities as `security.capability`,
//! the header kept in the commit metadata. The ref is set only when the
//! commit is complete: a half-imported package is never cached.

use anyhow::{Context, Result, anyhow, bail};
use glib::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::caps;
use super::commit;
use super::pkgcache::{self, CachedPackage};
use super::selinux::Labeler;
use crate::layering::rpmmd::ResolvedPackage;

/// What upstream records as the layout version of its imports.
const UNPACK_VERSION: u32 = 1;
const UNPACK_MINOR_VERSION: u32 = 6;

/// Where a path of a package goes in an ostree tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Into the tree at this relative path.
    Tree(String),
    /// Not in the tree: created at boot by systemd-tmpfiles (`/var`, `/run`).
    Tmpfiles,
    /// Dropped (the rpm database, files under `/var`).
    Dropped,
}

/// Where `path` (absolute, from the RPM) goes.
pub(crate) fn place(path: &str) -> Result<Placement> {
    let rel = path.trim_start_matches('/');
    let (top, rest) = rel.split_once('/').unwrap_or((rel, ""));
    let join = |prefix: &str| {
        Placement::Tree(if rest.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}/{rest}")
        })
    };
    Ok(match top {
        "" => Placement::Dropped,
        "usr" => join("usr"),
        // usrmove: the base has these as symlinks into /usr.
        "bin" => join("usr/bin"),
        "sbin" => join("usr/sbin"),
        "lib" => join("usr/lib"),
        "lib64" => join("usr/lib64"),
        "etc" => join("usr/etc"),
        "opt" => join("usr/lib/opt"),
        "boot" => join("usr/lib/ostree-boot"),
        "var" if rest.starts_with("lib/rpm") => Placement::Dropped,
        "var" | "run" => Placement::Tmpfiles,
        _ => bail!(
            "Unsupported path: {path}; See https://github.com/projectatomic/rpm-ostree/issues/233"
        ),
    })
}

/// One file of a package, from its header.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub path: String,
    pub mode: u32,
    pub user: String,
    pub group: String,
    pub caps: Option<String>,
    pub linkto: Option<String>,
    pub ghost: bool,
}

pub(crate) fn entries(meta: &rpm::PackageMetadata) -> Result<Vec<Entry>> {
    Ok(meta
        .get_file_entries()
        .map_err(|e| anyhow!("Reading the file list: {e}"))?
        .into_iter()
        .map(|f| Entry {
            path: f.path().display().to_string(),
            mode: u32::from(f.mode().raw_mode()),
            user: f.user().to_string(),
            group: f.group().to_string(),
            caps: f.caps().filter(|c| !c.is_empty()).map(String::from),
            linkto: f.linkto().filter(|l| !l.is_empty()).map(String::from),
            ghost: f.flags().contains(rpm::FileFlags::GHOST),
        })
        .collect())
}

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// The tmpfiles.d line that creates `e` (a directory or symlink under
/// `/var` or `/run`) at boot; nothing for other files, which are dropped.
pub(crate) fn tmpfiles_line(e: &Entry) -> Option<String> {
    match e.mode & S_IFMT {
        S_IFDIR => Some(format!(
            "d {} {:04o} {} {} - -",
            e.path,
            e.mode & 0o7777,
            e.user,
            e.group
        )),
        S_IFLNK => Some(format!(
            "L {} - - - - {}",
            e.path,
            e.linkto.as_deref().unwrap_or_default()
        )),
        _ => None,
    }
}

/// `NEVRA` of the rpmostree.nevra tuple form: (nevra, name, epoch, version, release, arch).
fn nevra_tuple(p: &ResolvedPackage) -> glib::Variant {
    (
        p.nevra.as_str(),
        p.name.as_str(),
        p.epoch,
        p.version.as_str(),
        p.release.as_str(),
        p.arch.as_str(),
    )
        .to_variant()
}

/// The lead, signature and header of the RPM at `path` (the file without
/// its payload), and its header metadata.
pub(crate) fn header_bytes(path: &Path) -> Result<(Vec<u8>, rpm::PackageMetadata)> {
    let meta = rpm::PackageMetadata::open(path).map_err(|e| anyhow!("{e}"))?;
    let end = usize::try_from(meta.get_package_segment_offsets().payload)?;
    let mut bytes = std::fs::read(path)?;
    if end > bytes.len() {
        bail!("Truncated package");
    }
    bytes.truncate(end);
    Ok((bytes, meta))
}

/// Unpacks the payload of the RPM at `rpm` into the (empty) directory `dir`.
fn unpack(rpm: &Path, dir: &Path) -> Result<()> {
    let mut rpm2cpio = Command::new("rpm2cpio")
        .arg(rpm)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("Running rpm2cpio")?;
    let input = rpm2cpio.stdout.take().context("rpm2cpio's output")?;
    let cpio = Command::new("cpio")
        .args(["-idmu", "--quiet", "--no-absolute-filenames"])
        .current_dir(dir)
        .stdin(input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("Running cpio")?;
    let r = rpm2cpio.wait_with_output()?;
    if !r.status.success() {
        bail!("rpm2cpio: {}", String::from_utf8_lossy(&r.stderr).trim());
    }
    if !cpio.status.success() {
        bail!("cpio: {}", String::from_utf8_lossy(&cpio.stderr).trim());
    }
    Ok(())
}

/// Moves the unpacked files of `raw` into `tree` where [`place`] says, and
/// writes the package's tmpfiles.d file; returns the tree paths (relative)
/// with the header entry each came from.
fn lay_out(
    name: &str,
    entries: &[Entry],
    raw: &Path,
    tree: &Path,
) -> Result<BTreeMap<String, Entry>> {
    let mut placed = BTreeMap::new();
    let mut tmpfiles = Vec::new();
    // Parents before children: a directory exists before what is in it.
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    for e in sorted {
        match place(&e.path)? {
            Placement::Dropped => {}
            Placement::Tmpfiles => tmpfiles.extend(tmpfiles_line(e)),
            Placement::Tree(rel) => {
                let src = raw.join(e.path.trim_start_matches('/'));
                let dst = tree.join(&rel);
                if let Some(parent) = dst.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                if e.mode & S_IFMT == S_IFDIR {
                    std::fs::create_dir_all(&dst)?;
                } else if e.ghost {
                    // A ghost is owned, not shipped.
                    continue;
                } else {
                    std::fs::rename(&src, &dst).with_context(|| format!("Placing {}", e.path))?;
                }
                if e.path.starts_with("/opt/") && e.path.matches('/').count() == 2 {
                    tmpfiles.push(format!(
                        "L {} - - - - /usr/lib/opt/{}",
                        e.path,
                        &e.path[5..]
                    ));
                }
                placed.insert(rel, e.clone());
            }
        }
    }
    if !tmpfiles.is_empty() {
        let dir = tree.join("usr/lib/rpm-ostree/tmpfiles.d");
        std::fs::create_dir_all(&dir)?;
        let mut text = tmpfiles.join("\n");
        text.push('\n');
        std::fs::write(dir.join(format!("{name}.conf")), text)?;
    }
    Ok(placed)
}

/// Imports the downloaded package `pkg` (file `rpm`) into `repo`, using
/// `work` (an empty directory on the repository's filesystem) as scratch.
pub(crate) fn import(
    repo: &ostree::Repo,
    pkg: &ResolvedPackage,
    rpm: &Path,
    work: &Path,
    labeler: Option<&Labeler>,
    cancellable: &gio::Cancellable,
) -> Result<CachedPackage> {
    let what = || format!("Importing {}", pkg.nevra);
    let (header, meta) = header_bytes(rpm).with_context(what)?;
    let entries = entries(&meta).with_context(what)?;
    let raw = work.join("raw");
    let tree = work.join("tree");
    std::fs::create_dir_all(&raw)?;
    std::fs::create_dir_all(&tree)?;
    unpack(rpm, &raw).with_context(what)?;
    let placed = lay_out(&pkg.name, &entries, &raw, &tree).with_context(what)?;
    let laid = Laid {
        header: &header,
        meta: &meta,
        placed: &placed,
        tree: &tree,
    };
    cache(repo, pkg, &laid, labeler, cancellable).with_context(what)
}

/// A package laid out in a directory, ready to commit.
struct Laid<'a> {
    header: &'a [u8],
    meta: &'a rpm::PackageMetadata,
    placed: &'a BTreeMap<String, Entry>,
    tree: &'a Path,
}

/// Commits `laid` as the pkgcache commit of `pkg`; what is cached.
fn cache(
    repo: &ostree::Repo,
    pkg: &ResolvedPackage,
    laid: &Laid,
    labeler: Option<&Labeler>,
    cancellable: &gio::Cancellable,
) -> Result<CachedPackage> {
    let buildtime = laid.meta.get_build_time().unwrap_or(0);
    let commit = commit_tree(
        repo,
        pkg,
        laid.header,
        buildtime,
        laid.placed,
        laid.tree,
        labeler,
        cancellable,
    )?;
    Ok(CachedPackage {
        nevra: pkg.nevra.clone(),
        name: pkg.name.clone(),
        cache_ref: pkgcache::cache_ref(&pkg.name, &evr(pkg), &pkg.arch),
        commit,
        checksum: pkg.checksum.clone(),
        sepolicy: labeler.map(|l| l.csum.clone()),
    })
}

/// Commits the pkgcache commit of `pkg` (`cached`) again with the labels of
/// `labeler`'s policy, from a checkout in `work`; moves its ref.
pub(crate) fn relabel(
    repo: &ostree::Repo,
    pkg: &ResolvedPackage,
    cached_pkg: &CachedPackage,
    work: &Path,
    labeler: Option<&Labeler>,
    cancellable: &gio::Cancellable,
) -> Result<CachedPackage> {
    let what = || format!("Relabeling {}", pkg.nevra);
    let (header, meta) = cached_pkg.header(repo).with_context(what)?;
    let placed = placed_of(&entries(&meta)?)?;
    std::fs::create_dir_all(work)?;
    let tree = work.join("tree");
    let opts = ostree::RepoCheckoutAtOptions {
        mode: ostree::RepoCheckoutMode::None,
        no_copy_fallback: true,
        ..Default::default()
    };
    repo.checkout_at(
        Some(&opts),
        libc::AT_FDCWD,
        &tree,
        &cached_pkg.commit,
        Some(cancellable),
    )
    .with_context(what)?;
    let laid = Laid {
        header: &header,
        meta: &meta,
        placed: &placed,
        tree: &tree,
    };
    cache(repo, pkg, &laid, labeler, cancellable).with_context(what)
}

/// What `lay_out` places in the tree, by path in the tree.
fn placed_of(entries: &[Entry]) -> Result<BTreeMap<String, Entry>> {
    let mut placed = BTreeMap::new();
    for e in entries {
        if let Placement::Tree(rel) = place(&e.path)?
            && (e.mode & S_IFMT == S_IFDIR || !e.ghost)
        {
            placed.insert(rel, e.clone());
        }
    }
    Ok(placed)
}

/// `[epoch:]version-release`, the epoch left out when 0.
pub(crate) fn evr(p: &ResolvedPackage) -> String {
    if p.epoch == 0 {
        format!("{}-{}", p.version, p.release)
    } else {
        format!("{}:{}-{}", p.epoch, p.version, p.release)
    }
}

/// Commits `tree` (the laid-out package) with upstream's pkgcache metadata
/// (labelled with `labeler`'s policy) and sets the pkgcache ref, all in one
/// repository transaction.
#[allow(clippy::too_many_arguments)]
fn commit_tree(
    repo: &ostree::Repo,
    pkg: &ResolvedPackage,
    header: &[u8],
    buildtime: u64,
    placed: &BTreeMap<String, Entry>,
    tree: &Path,
    labeler: Option<&Labeler>,
    cancellable: &gio::Cancellable,
) -> Result<String> {
    let modes: BTreeMap<String, u32> = placed
        .iter()
        .map(|(k, e)| (format!("/{k}"), e.mode))
        .collect();
    let caps: BTreeMap<String, String> = placed
        .iter()
        .filter_map(|(k, e)| Some((format!("/{k}"), e.caps.clone()?)))
        .collect();
    let filter = move |_: &ostree::Repo, path: &str, info: &gio::FileInfo| {
        info.set_attribute_uint32("unix::uid", 0);
        info.set_attribute_uint32("unix::gid", 0);
        let current = info.attribute_uint32("unix::mode");
        let mut mode = match modes.get(path) {
            // The header's permission bits (setuid too), the file's type.
            Some(m) => (current & S_IFMT) | (m & 0o7777),
            None => current,
        };
        if current & S_IFMT == S_IFDIR {
            mode |= 0o200;
        }
        info.set_attribute_uint32("unix::mode", mode);
        ostree::RepoCommitFilterResult::Allow
    };
    let modifier = ostree::RepoCommitModifier::new(
        ostree::RepoCommitModifierFlags::SKIP_XATTRS,
        Some(Box::new(filter)),
    );
    let label_with = labeler.cloned();
    let label_error = std::rc::Rc::new(std::cell::RefCell::new(None::<anyhow::Error>));
    let failed = label_error.clone();
    modifier.set_xattr_callback(move |_, path, info| {
        let mut xattrs: Vec<(Vec<u8>, Vec<u8>)> = caps
            .get(path)
            .and_then(|c| caps::to_xattr(c).ok())
            .map(|value| vec![(b"security.capability\0".to_vec(), value)])
            .unwrap_or_default();
        if let Some(l) = &label_with {
            match l.relabel(xattrs.clone(), path, info.attribute_uint32("unix::mode")) {
                Ok(x) => xattrs = x,
                Err(e) => {
                    failed.borrow_mut().get_or_insert(e);
                }
            }
        }
        xattrs.to_variant()
    });
    let checksum = sha256_hex(header);
    let meta = glib::VariantDict::new(None);
    meta.insert_value(
        "rpmostree.metadata",
        &glib::Variant::array_from_fixed_array(header),
    );
    meta.insert("rpmostree.metadata_sha256", checksum.as_str());
    meta.insert_value("rpmostree.nevra", &nevra_tuple(pkg));
    meta.insert("rpmostree.unpack_version", UNPACK_VERSION);
    meta.insert("rpmostree.unpack_minor_version", UNPACK_MINOR_VERSION);
    let repo_info = glib::VariantDict::new(None);
    repo_info.insert("id", pkg.repo.as_str());
    meta.insert_value("rpmostree.repo", &repo_info.end());
    meta.insert("rpmostree.repodata_checksum", pkg.checksum.as_str());
    meta.insert("rpmostree.nodocs", false);
    if let Some(l) = labeler {
        meta.insert("rpmostree.sepolicy", l.csum.as_str());
    }
    let cache_ref = pkgcache::cache_ref(&pkg.name, &evr(pkg), &pkg.arch);
    commit::in_transaction(repo, cancellable, || {
        let mtree = commit::tree_of_dir(repo, tree, &modifier, cancellable)?;
        if let Some(e) = label_error.borrow_mut().take() {
            return Err(e);
        }
        let root = repo.write_mtree(&mtree, Some(cancellable))?;
        let root = root
            .downcast::<ostree::RepoFile>()
            .map_err(|_| anyhow!("Not a repository tree"))?;
        let commit = repo.write_commit_with_time(
            None,
            None,
            None,
            Some(&meta.end()),
            &root,
            buildtime,
            Some(cancellable),
        )?;
        repo.transaction_set_ref(None, &cache_ref, Some(&commit));
        Ok(commit.to_string())
    })
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let mut c = glib::Checksum::new(glib::ChecksumType::Sha256).expect("sha256 exists");
    c.update(bytes);
    c.string().map(|s| s.to_string()).unwrap_or_default()
}

/// The scratch directory of one import under `parent`.
pub(crate) fn workdir(parent: &Path, nevra: &str) -> PathBuf {
    parent.join(format!("import-{nevra}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_placed_as_upstream_places_them() {
        let t = |p: &str| place(p).unwrap();
        assert_eq!(t("/usr/bin/x"), Placement::Tree("usr/bin/x".into()));
        assert_eq!(t("/etc/x.conf"), Placement::Tree("usr/etc/x.conf".into()));
        assert_eq!(
            t("/opt/app/data"),
            Placement::Tree("usr/lib/opt/app/data".into())
        );
        assert_eq!(
            t("/boot/vmlinuz"),
            Placement::Tree("usr/lib/ostree-boot/vmlinuz".into())
        );
        assert_eq!(t("/bin/sh"), Placement::Tree("usr/bin/sh".into()));
        assert_eq!(t("/var/lib/app"), Placement::Tmpfiles);
        assert_eq!(t("/run/app"), Placement::Tmpfiles);
        assert_eq!(t("/var/lib/rpm/x"), Placement::Dropped);
        assert!(
            place("/home/user/x")
                .unwrap_err()
                .to_string()
                .contains("issues/233")
        );
    }

    #[test]
    fn var_entries_become_tmpfiles_lines() {
        let e = |path: &str, mode: u32| Entry {
            path: path.into(),
            mode,
            user: "nobody".into(),
            group: "nogroup".into(),
            caps: None,
            linkto: Some("/usr/x".into()),
            ghost: false,
        };
        assert_eq!(
            tmpfiles_line(&e("/var/lib/tp-app", 0o040750)).as_deref(),
            Some("d /var/lib/tp-app 0750 nobody nogroup - -")
        );
        assert_eq!(
            tmpfiles_line(&e("/var/x", 0o120777)).as_deref(),
            Some("L /var/x - - - - /usr/x")
        );
        assert_eq!(tmpfiles_line(&e("/var/f", 0o100644)), None);
    }
}
