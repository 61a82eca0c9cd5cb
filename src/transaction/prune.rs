//! Pruning the system repository: deleting every object that no ref and no
//! deployment reaches (what libostree's refs-only prune of a sysroot keeps:
//! each root commit at depth 0, its trees, its files, its detached metadata).
//!
//! The reachable set holds 33-byte binary keys, so a prune costs little more
//! than reading the trees and the object directories. It runs in the worker
//! (`cleanup`) or in a child process (`rpm-ostreed internal-prune`) while a new
//! deployment is staged, the two overlapping on different cores: the roots then
//! include the commit being staged, and the repository's exclusive lock keeps
//! other writers out. Repositories this code does not fully understand (archive
//! or split-xattrs modes, a parent repository, tombstone commits, collection
//! mirrors) are left to libostree.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use serde_json::json;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::child::Helper;

type Csum = [u8; 32];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    File,
    DirTree,
    DirMeta,
    Commit,
}

/// What a prune did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pruned {
    pub total: u64,
    pub pruned: u64,
    pub freed: u64,
}

fn parse_hex(s: &str) -> Option<Csum> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn to_hex(c: &Csum) -> String {
    c.iter().map(|b| format!("{b:02x}")).collect()
}

fn object_kind(ext: &str) -> Option<Kind> {
    Some(match ext {
        "file" => Kind::File,
        "dirtree" => Kind::DirTree,
        "dirmeta" => Kind::DirMeta,
        "commit" => Kind::Commit,
        _ => return None,
    })
}

/// True if this module can prune `repo` exactly as libostree would.
pub(crate) fn supported(repo: &ostree::Repo, repo_path: &Path) -> bool {
    let mode_ok = matches!(
        repo.mode(),
        ostree::RepoMode::Bare | ostree::RepoMode::BareUser | ostree::RepoMode::BareUserOnly
    );
    let tombstones = repo
        .config()
        .boolean("core", "tombstone-commits")
        .unwrap_or(false);
    let no_mirrors = std::fs::read_dir(repo_path.join("refs/mirrors"))
        .map(|mut d| d.next().is_none())
        .unwrap_or(true);
    mode_ok && repo.parent().is_none() && !tombstones && no_mirrors
}

fn csum_of(v: &glib::Variant) -> Result<Csum> {
    let bytes = v.fixed_array::<u8>().map_err(|e| anyhow!("{e}"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow!("Invalid checksum of length {}", bytes.len()))
}

struct Reachable<'a> {
    repo: &'a ostree::Repo,
    repo_path: &'a Path,
    set: HashSet<(Csum, Kind)>,
}

impl Reachable<'_> {
    fn add_commit(&mut self, hex: &str) -> Result<()> {
        let c = parse_hex(hex).ok_or_else(|| anyhow!("Invalid commit checksum '{hex}'"))?;
        if !self.set.insert((c, Kind::Commit)) {
            return Ok(());
        }
        // A ref may name a commit that is not here (yet); nothing to keep then.
        let Some(commit) = self
            .repo
            .load_variant_if_exists(ostree::ObjectType::Commit, hex)?
        else {
            return Ok(());
        };
        if !commit.is_type(glib::VariantTy::new("(a{sv}aya(say)sstayay)")?) {
            bail!("Commit {hex} is malformed");
        }
        let partial = self
            .repo_path
            .join(format!("state/{hex}.commitpartial"))
            .exists();
        let tree = csum_of(&commit.child_value(6))?;
        let meta = csum_of(&commit.child_value(7))?;
        self.add_tree(tree, meta, partial)
    }

    fn add_tree(&mut self, tree: Csum, meta: Csum, partial: bool) -> Result<()> {
        self.set.insert((meta, Kind::DirMeta));
        if !self.set.insert((tree, Kind::DirTree)) {
            return Ok(());
        }
        let hex = to_hex(&tree);
        let v = match self
            .repo
            .load_variant_if_exists(ostree::ObjectType::DirTree, &hex)?
        {
            Some(v) => v,
            // A partial commit (an interrupted pull) misses some of its trees.
            None if partial => return Ok(()),
            None => bail!("Missing dirtree object {hex}"),
        };
        if !v.is_type(glib::VariantTy::new("(a(say)a(sayay))")?) {
            bail!("Dirtree {hex} is malformed");
        }
        for file in v.child_value(0).iter() {
            self.set
                .insert((csum_of(&file.child_value(1))?, Kind::File));
        }
        for dir in v.child_value(1).iter() {
            let t = csum_of(&dir.child_value(1))?;
            let m = csum_of(&dir.child_value(2))?;
            self.add_tree(t, m, partial)?;
        }
        Ok(())
    }
}

/// Holds one of the repository's locks until dropped.
struct RepoLock<'a>(&'a ostree::Repo);

impl<'a> RepoLock<'a> {
    fn exclusive(repo: &'a ostree::Repo, cancellable: &gio::Cancellable) -> Result<Self> {
        use glib::translate::ToGlibPtr;
        let mut error = std::ptr::null_mut();
        // SAFETY: valid repo and cancellable pointers; `error` is an out-parameter.
        let ok = unsafe {
            ostree::ffi::ostree_repo_lock_push(
                repo.to_glib_none().0,
                ostree::ffi::OSTREE_REPO_LOCK_EXCLUSIVE,
                cancellable.to_glib_none().0,
                &mut error,
            )
        };
        if ok == 0 {
            // SAFETY: on failure libostree set `error`, which we now own.
            let e: glib::Error = unsafe { glib::translate::from_glib_full(error) };
            return Err(e).context("Locking the repository");
        }
        Ok(Self(repo))
    }
}

impl Drop for RepoLock<'_> {
    fn drop(&mut self) {
        use glib::translate::ToGlibPtr;
        let mut error = std::ptr::null_mut();
        // SAFETY: pops the lock pushed in `exclusive`; a failure is only logged.
        unsafe {
            if ostree::ffi::ostree_repo_lock_pop(
                self.0.to_glib_none().0,
                ostree::ffi::OSTREE_REPO_LOCK_EXCLUSIVE,
                std::ptr::null_mut(),
                &mut error,
            ) == 0
            {
                let e: glib::Error = glib::translate::from_glib_full(error);
                glib::g_warning!("rpm-ostreed", "Unlocking the repository: {e}");
            }
        }
    }
}

/// Deletes `path`, adding its size to `freed`; a missing file is not an error.
fn delete(path: &Path, freed: &mut u64) -> Result<bool> {
    let size = match std::fs::symlink_metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("Reading {}", path.display())),
    };
    match std::fs::remove_file(path) {
        Ok(()) => {
            *freed += size;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("Deleting {}", path.display())),
    }
}

/// Prunes `repo` (at `repo_path`), keeping what its refs and `roots` reach.
pub(crate) fn prune(
    repo: &ostree::Repo,
    repo_path: &Path,
    roots: &[String],
    cancellable: &gio::Cancellable,
) -> Result<Pruned> {
    let _lock = RepoLock::exclusive(repo, cancellable)?;
    let mut reach = Reachable {
        repo,
        repo_path,
        set: HashSet::new(),
    };
    let refs = repo.list_refs_ext(None, ostree::RepoListRefsExtFlags::NONE, Some(cancellable))?;
    for commit in refs.values().chain(roots) {
        reach.add_commit(commit)?;
    }
    cancellable.set_error_if_cancelled()?;
    let objects = repo_path.join("objects");
    let mut doomed_commits = Vec::new();
    let mut doomed = Vec::new();
    let mut result = Pruned::default();
    for prefix in 0..=255u8 {
        let dir = objects.join(format!("{prefix:02x}"));
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("Listing {}", dir.display())),
        };
        for entry in entries {
            let name = entry?.file_name();
            let Some((rest, ext)) = name.to_str().and_then(|n| n.split_once('.')) else {
                continue;
            };
            let Some(csum) = parse_hex(&format!("{prefix:02x}{rest}")) else {
                continue;
            };
            // Detached metadata goes with its commit.
            let (kind, counted) = match (object_kind(ext), ext) {
                (Some(k), _) => (k, true),
                (None, "commitmeta") => (Kind::Commit, false),
                _ => continue,
            };
            result.total += u64::from(counted);
            if reach.set.contains(&(csum, kind)) {
                continue;
            }
            let path = dir.join(&name);
            match (kind, counted) {
                (Kind::Commit, true) => doomed_commits.push((path, to_hex(&csum))),
                _ => doomed.push((path, counted)),
            }
        }
    }
    cancellable.set_error_if_cancelled()?;
    // Commits first: an interruption then leaves garbage, never a commit with
    // missing objects.
    for (path, hex) in doomed_commits {
        if delete(&path, &mut result.freed)? {
            result.pruned += 1;
        }
        delete(&path.with_extension("commitmeta"), &mut result.freed)?;
        delete(
            &repo_path.join(format!("state/{hex}.commitpartial")),
            &mut 0,
        )?;
    }
    for (path, counted) in doomed {
        if delete(&path, &mut result.freed)? && counted {
            result.pruned += 1;
        }
    }
    Ok(result)
}

/// The sysroot's cleanup: libostree's cleanup without its prune, then ours
/// (or all of libostree's where ours does not apply).
pub(crate) fn cleanup_sysroot(
    sysroot: &ostree::Sysroot,
    sysroot_path: &Path,
    cancellable: &gio::Cancellable,
) -> Result<Option<Pruned>> {
    let repo = sysroot.repo();
    let repo_path = sysroot_path.join("ostree/repo");
    if !supported(&repo, &repo_path) {
        sysroot.cleanup(Some(cancellable))?;
        return Ok(None);
    }
    sysroot.prepare_cleanup(Some(cancellable))?;
    let roots: Vec<String> = sysroot
        .deployments()
        .iter()
        .map(|d| d.csum().to_string())
        .collect();
    prune(&repo, &repo_path, &roots, cancellable).map(Some)
}

/// A prune running in a child process.
pub(crate) struct Background(Helper);

impl Background {
    /// Starts pruning the sysroot's repository, keeping the deployments' commits
    /// and `extra` besides the refs; `None` where libostree must do it.
    pub(crate) fn start(
        sysroot: &ostree::Sysroot,
        sysroot_path: &Path,
        extra: &[&str],
    ) -> Result<Option<Self>> {
        let repo_path = sysroot_path.join("ostree/repo");
        if !supported(&sysroot.repo(), &repo_path) {
            return Ok(None);
        }
        let mut roots: Vec<String> = sysroot
            .deployments()
            .iter()
            .map(|d| d.csum().to_string())
            .collect();
        roots.extend(extra.iter().map(|s| s.to_string()));
        let spec = json!({ "repo": repo_path.to_string_lossy(), "roots": roots }).to_string();
        Ok(Some(Self(Helper::spawn("internal-prune", &spec)?)))
    }

    /// Waits for the prune to end; cancellation kills it.
    pub(crate) fn wait(mut self, cancellable: &gio::Cancellable) -> Result<Pruned> {
        let v = self.0.result(cancellable, "pruned")?;
        Ok(Pruned {
            total: v["total"].as_u64().unwrap_or(0),
            pruned: v["pruned"].as_u64().unwrap_or(0),
            freed: v["freed"].as_u64().unwrap_or(0),
        })
    }
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

/// Entry point of `rpm-ostreed internal-prune SPEC-JSON`.
pub fn helper_main(args: &[std::ffi::OsString]) -> ExitCode {
    let run = || -> Result<Pruned> {
        let spec: serde_json::Value = args
            .get(2)
            .and_then(|a| a.to_str())
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| anyhow!("internal-prune: invalid specification"))?;
        let repo_path = PathBuf::from(spec["repo"].as_str().unwrap_or_default());
        let roots: Vec<String> = spec["roots"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let repo = ostree::Repo::new_for_path(&repo_path);
        repo.open(gio::Cancellable::NONE)?;
        prune(&repo, &repo_path, &roots, &gio::Cancellable::new())
    };
    match run() {
        Ok(p) => {
            println!(
                "{}",
                json!({ "pruned": p.pruned, "total": p.total, "freed": p.freed })
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", json!({ "error": format!("{e:#}") }));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_roundtrip() {
        let hex = "6c7e9b1026b440567ee236ea3da39d1b714af9f90f411da045b67b3783a9e0e3";
        assert_eq!(to_hex(&parse_hex(hex).unwrap()), hex);
        assert_eq!(parse_hex("6c7e"), None);
        assert_eq!(parse_hex(&"zz".repeat(32)), None);
        assert_eq!(object_kind("dirtree"), Some(Kind::DirTree));
        assert_eq!(object_kind("payload-link"), None);
    }
}
