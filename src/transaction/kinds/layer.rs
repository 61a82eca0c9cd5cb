//! Layering packages on a base commit: the one place that knows the order
//! of the stages (layering/*), each taking owned input and returning an
//! owned value: the base's rpm database -> resolve and download (the rpm-md
//! helper) -> import into the pkgcache -> assemble (checkouts) -> scripts ->
//! owners -> rpm database -> commit. What it returns is deployed by the
//! deploy kind, through phase 1's path.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::Ctx;
use super::stages::Stages;
use crate::deployment::origin::Origin;
use crate::layering::assemble::{self, Workdir};
use crate::layering::commit::{self, LayerMeta, STATE_KEY};
use crate::layering::import::{self, Entry};
use crate::layering::pkgcache::{self, CachedPackage};
use crate::layering::request::{inactive_error, remote_replacements};
use crate::layering::rpmmd::{self, Resolution, ResolveRequest, ResolvedPackage, Setup};
use crate::layering::scripts::{self, Phase, Sandbox, Script};
use crate::layering::selinux::{self, Labeler};
use crate::layering::{initramfs, local, pkglist, removal, rpmdb};

/// How far a layering goes, and what it may accept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LayerFlags {
    pub cache_only: bool,
    pub dry_run: bool,
    pub download_only: bool,
    pub allow_inactive: bool,
}

/// The rpm database of a tree.
const RPMDB: &str = "usr/share/rpm/rpmdb.sqlite";

/// How a layering ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layered {
    /// A new layered commit.
    Commit(String),
    /// The layer would be what `previous` (a layered commit on the same
    /// base) already is.
    Unchanged,
    /// Stopped as asked (dry run, download only).
    Stopped,
}

/// Copies the file `path` of commit `commit` to `dest`; false if the commit
/// has no such regular file.
fn copy_out(repo: &ostree::Repo, commit: &str, path: &str, dest: &Path) -> Result<bool> {
    let (root, _) = repo.read_commit(commit, gio::Cancellable::NONE)?;
    let Ok(file) = root
        .resolve_relative_path(path)
        .downcast::<ostree::RepoFile>()
    else {
        return Ok(false);
    };
    if file.ensure_resolved().is_err() {
        return Ok(false);
    }
    let Ok((Some(stream), _, _)) = repo.load_file(&file.checksum(), gio::Cancellable::NONE) else {
        return Ok(false);
    };
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut out = std::fs::File::create(dest)?;
    std::io::copy(&mut stream.into_read(), &mut out)?;
    Ok(true)
}

/// Copies into `dir` what libdnf needs of commit `base`: its rpm database
/// (the installed packages) and its os-release (`$releasever`).
fn base_rpmdb(repo: &ostree::Repo, base: &str, dir: &Path) -> Result<()> {
    if !copy_out(repo, base, RPMDB, &dir.join(RPMDB))? {
        bail!("The base commit {base} has no sqlite rpm database ({RPMDB})");
    }
    for f in ["usr/lib/os-release", "usr/etc/os-release"] {
        if copy_out(repo, base, f, &dir.join(f))? {
            break;
        }
    }
    Ok(())
}

/// The state digest of the layered commit `commit`, if it is one.
pub(crate) fn state_of(repo: &ostree::Repo, commit: &str) -> Option<String> {
    let (c, _) = repo.load_commit(commit).ok()?;
    glib::VariantDict::new(Some(&c.child_value(0)))
        .lookup::<String>(STATE_KEY)
        .ok()
        .flatten()
}

/// What assembling needs of each package: its header bytes, files, scripts.
struct PackageInfo {
    nevra: String,
    header: Vec<u8>,
    entries: Vec<Entry>,
    scripts: Vec<Script>,
    requires: Vec<String>,
    provides: Vec<String>,
}

fn package_info(repo: &ostree::Repo, p: &CachedPackage) -> Result<PackageInfo> {
    let (header, meta) = p.header(repo)?;
    let names = |deps: Result<Vec<rpm::Dependency>, rpm::Error>| -> Vec<String> {
        deps.unwrap_or_default()
            .into_iter()
            .map(|d| d.name)
            .collect()
    };
    let entries = import::entries(&meta)?;
    let mut provides = names(meta.get_provides());
    provides.extend(entries.iter().map(|e| e.path.clone()));
    Ok(PackageInfo {
        nevra: p.nevra.clone(),
        scripts: scripts::of_package(&p.name, &meta)?,
        requires: names(meta.get_requires()),
        provides,
        entries,
        header,
    })
}

/// Packages before those that need them (what rpm's ordering does for a
/// set without cycles); ties by name.
fn install_order(infos: &[(String, PackageInfo)]) -> Vec<String> {
    let mut left: BTreeMap<&str, &PackageInfo> =
        infos.iter().map(|(n, i)| (n.as_str(), i)).collect();
    let mut order = Vec::new();
    while !left.is_empty() {
        let ready = left
            .iter()
            .find(|(_, info)| {
                !info.requires.iter().any(|r| {
                    left.iter()
                        .any(|(other, o)| o.provides.contains(r) && *other != info.nevra.as_str())
                        && !info.provides.contains(r)
                })
            })
            .map(|(n, _)| n.to_string())
            // A cycle: the first by name.
            .unwrap_or_else(|| {
                left.keys()
                    .next()
                    .map(|k| k.to_string())
                    .unwrap_or_default()
            });
        left.remove(ready.as_str());
        order.push(ready);
    }
    order
}

/// What the call that layers asked for anew.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NewRequests {
    /// Packages to install (those the base provides are refused unless
    /// inactive ones are allowed).
    pub packages: BTreeSet<String>,
    /// Base packages to remove (one the base lacks is an error; an older
    /// removal the new base makes moot is kept, inactive).
    pub removals: BTreeSet<String>,
    /// Local replacements, by NEVRA (one the base makes moot is refused;
    /// an older one is kept, inactive).
    pub replacements: BTreeSet<String>,
}

/// Layers the requests of `origin` on commit `base`. `previous`: the
/// merge deployment's commit (a layered one on the same base is reused when
/// its state digest is the same).
pub(crate) fn layer(
    ctx: &Ctx,
    setup: &Setup,
    base: &str,
    origin: &Origin,
    previous: Option<&str>,
    new: &NewRequests,
    flags: LayerFlags,
) -> Result<Layered> {
    let repo = ctx.sysroot.repo();
    let repo_path = ctx.sysroot_path.join("ostree/repo");
    let mut stages = Stages::new();
    Workdir::sweep(&repo_path);
    let work = Workdir::new(&repo_path)?;
    let short: String = base.chars().take(7).collect();
    ctx.progress
        .task_begin(format!("Checking out tree {short}"));
    base_rpmdb(&repo, base, &work.path.join("base"))?;
    let labeler = selinux::of_commit(&repo, base)?;
    ctx.progress.task_end("done");
    stages.mark("base rpmdb");
    let cached = pkgcache::index(&repo)?;
    let request = ResolveRequest {
        base_root: work.path.join("base"),
        packages: origin.requested_packages.iter().cloned().collect(),
        cache_only: flags.cache_only,
        cached: cached
            .values()
            .map(|c| (c.nevra.clone(), c.checksum.clone()))
            .collect(),
        download_dir: (!flags.dry_run).then(|| work.path.join("download")),
        remove: origin.override_remove.iter().cloned().collect(),
        local: local::header_files(
            &repo,
            &cached,
            &origin.requested_local_packages,
            &work.path.join("local"),
        )?,
        replace_local: local::header_files(
            &repo,
            &cached,
            &origin.override_replace_local,
            &work.path.join("replace"),
        )?,
        replace_remote: remote_replacements(origin)?,
    };
    // $releasever is the new base's.
    let setup = Setup {
        release_root: Some(work.path.join("base")),
        ..setup.clone()
    };
    // Nothing asked of packages (a regenerated initramfs only): no depsolve.
    let res = if origin.has_package_requests() {
        rpmmd::resolve(
            &setup,
            request,
            |p| p.report(&ctx.progress),
            &ctx.cancellable,
        )?
    } else {
        Resolution::default()
    };
    stages.mark("resolve");
    check_inactive(&res, &new.packages, flags.allow_inactive)?;
    if let Some(p) = res
        .absent_removals
        .iter()
        .find(|p| new.removals.contains(*p))
    {
        bail!("Package \"{p}\" not found");
    }
    super::local::check_replacements(ctx, &res, &new.replacements)?;
    let active: Vec<String> = {
        let inactive: BTreeSet<&String> = res.inactive.iter().map(|(r, _)| r).collect();
        origin
            .requested_packages
            .iter()
            .filter(|r| !inactive.contains(r))
            .cloned()
            .collect()
    };
    if flags.dry_run {
        report_plan(ctx, &res);
        return Ok(Layered::Stopped);
    }
    let mut installed: Vec<(String, String)> = res
        .packages
        .iter()
        .map(|p| (p.nevra.clone(), p.checksum.clone()))
        .collect();
    installed.extend(
        res.removed
            .iter()
            .map(|r| (format!("-{}", r.nevra), "removed".to_string())),
    );
    installed.extend(
        res.replaced
            .iter()
            .map(|(_, old)| (format!("-{}", old.nevra), "replaced".to_string())),
    );
    let mut going = res.removed.clone();
    going.extend(res.replaced.iter().map(|(_, old)| old.clone()));
    let removed = removal::of(&work.path.join("base").join(RPMDB), &going)?;
    removed.check_kernel()?;
    let mut requests = active.clone();
    requests.extend(origin.requested_local_packages.iter().cloned());
    requests.extend(origin.override_replace_local.iter().cloned());
    requests.extend(origin.override_replace.iter().cloned());
    if origin.regenerate_initramfs {
        requests.push(format!("initramfs:{}", origin.initramfs_args.join(" ")));
    }
    let digest = commit::state_digest(&requests, &installed);
    let pkgs = import_all(ctx, &repo, &res.packages, &cached, &work, labeler.as_ref())?;
    stages.mark("import");
    if flags.download_only {
        return Ok(Layered::Stopped);
    }
    let previous_base = previous.and_then(|p| parent_of(&repo, p));
    if previous_base.as_deref() == Some(base)
        && previous.and_then(|p| state_of(&repo, p)).as_deref() == Some(digest.as_str())
    {
        return Ok(Layered::Unchanged);
    }
    let mut infos = Vec::new();
    for p in &pkgs {
        let info = package_info(&repo, p)?;
        if info.entries.iter().any(|e| removal::is_kernel(&e.path)) {
            bail!(
                "Installing a kernel ({}) is not supported yet by this rpm-ostree daemon",
                p.nevra
            );
        }
        infos.push((p.nevra.clone(), info));
    }
    // Nothing to run in the tree and nobody's files but root's: no checkout.
    // A regenerated initramfs needs the whole tree too.
    let direct = !origin.regenerate_initramfs
        && infos.iter().all(|(_, i)| {
            i.scripts.is_empty()
                && i.entries
                    .iter()
                    .all(|e| e.ghost || (e.user == "root" && e.group == "root"))
        });
    let devino = ostree::RepoDevInoCache::new();
    let root = if direct {
        work.path.join("base")
    } else {
        work.root()
    };
    let source = if direct {
        ctx.progress.task_begin("Checking out packages");
        let mtree = assemble::overlay(&repo, base, removed.removals(), &pkgs)?;
        ctx.progress.task_end("done");
        stages.mark("overlay");
        write_rpmdb(ctx, &root, &infos, &removed.names, &work)?;
        stages.mark("rpmdb");
        commit::Source::Overlay {
            mtree,
            replace: vec![(RPMDB.to_string(), root.join(RPMDB))],
        }
    } else {
        assemble(
            ctx,
            &repo,
            base,
            &pkgs,
            &infos,
            &removed,
            &root,
            &work,
            &devino,
            &mut stages,
        )?;
        if origin.regenerate_initramfs {
            ctx.progress.task_begin("Generating initramfs");
            let args = &origin.initramfs_args;
            initramfs::regenerate(&root, args, &work.path, &ctx.cancellable)?;
            ctx.progress.task_end("done");
            stages.mark("initramfs");
        }
        commit::Source::Checkout {
            root: &root,
            devino: &devino,
            labeler: labeler.clone(),
        }
    };
    ctx.progress.task_begin("Writing OSTree commit");
    let meta = LayerMeta {
        base: base.to_string(),
        packages: active,
        pkglist: pkglist::packages_of_file(&root.join(RPMDB))?,
        repos: res.repos.clone(),
        state_digest: digest,
        removed: res.removed.clone(),
        replaced: super::local::replaced_pairs(&res, false),
        replaced_remote: super::local::replaced_pairs(&res, true),
    };
    let commit = commit::commit(&repo, source, &meta, &ctx.cancellable)?;
    ctx.progress.task_end("done");
    stages.mark("commit");
    stages.log(&format!(
        "Layered {} packages on {short}{}",
        pkgs.len(),
        if direct { " (overlaid)" } else { "" }
    ));
    Ok(Layered::Commit(commit))
}

/// The parent of `commit` (the base of a layered commit).
pub(crate) fn parent_of(repo: &ostree::Repo, commit: &str) -> Option<String> {
    let (c, _) = repo.load_commit(commit).ok()?;
    ostree::commit_get_parent(&c).map(|p| p.to_string())
}

fn check_inactive(res: &Resolution, new: &BTreeSet<String>, allow: bool) -> Result<()> {
    if allow {
        return Ok(());
    }
    for (request, providers) in &res.inactive {
        if new.contains(request) {
            bail!(inactive_error(request, providers));
        }
    }
    Ok(())
}

/// What a dry run prints.
fn report_plan(ctx: &Ctx, res: &Resolution) {
    let n = res.packages.len();
    ctx.progress.message(format!("  Installing {n} packages:"));
    for p in &res.packages {
        ctx.progress
            .message(format!("    {} ({})", p.nevra, p.repo));
    }
}

/// Imports what was downloaded; returns every package of the layer as it is
/// in the pkgcache.
fn import_all(
    ctx: &Ctx,
    repo: &ostree::Repo,
    resolved: &[ResolvedPackage],
    cached: &BTreeMap<String, CachedPackage>,
    work: &Workdir,
    labeler: Option<&Labeler>,
) -> Result<Vec<CachedPackage>> {
    let policy = labeler.map(|l| l.csum.clone());
    let fresh: Vec<&ResolvedPackage> = resolved.iter().filter(|p| p.path.is_some()).collect();
    if !fresh.is_empty() {
        ctx.progress.task_begin("Importing packages");
    }
    let mut out = Vec::new();
    for p in resolved {
        ctx.check_cancelled()?;
        match &p.path {
            Some(file) => {
                let dir = import::workdir(&work.path, &p.nevra);
                out.push(import::import(
                    repo,
                    p,
                    file,
                    &dir,
                    labeler,
                    &ctx.cancellable,
                )?);
                let _ = std::fs::remove_dir_all(&dir);
            }
            None => {
                let c = cached
                    .get(&p.nevra)
                    .ok_or_else(|| anyhow!("{} is neither downloaded nor cached", p.nevra))?;
                if c.sepolicy == policy {
                    out.push(c.clone());
                    continue;
                }
                // Labelled with another policy (or none): labelled again.
                let dir = import::workdir(&work.path, &p.nevra);
                out.push(import::relabel(
                    repo,
                    p,
                    c,
                    &dir,
                    labeler,
                    &ctx.cancellable,
                )?);
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }
    if !fresh.is_empty() {
        ctx.progress.task_end("done");
    }
    Ok(out)
}

/// Checks out the base and the packages into `root`, runs the scripts,
/// applies owners and writes the rpm database.
#[allow(clippy::too_many_arguments)]
fn assemble(
    ctx: &Ctx,
    repo: &ostree::Repo,
    base: &str,
    pkgs: &[CachedPackage],
    infos: &[(String, PackageInfo)],
    removed: &removal::Removed,
    root: &Path,
    work: &Workdir,
    devino: &ostree::RepoDevInoCache,
    stages: &mut Stages,
) -> Result<()> {
    ctx.progress.task_begin("Checking out packages");
    assemble::checkout_all(
        repo,
        base,
        removed.removals(),
        pkgs,
        root,
        devino,
        &ctx.cancellable,
    )?;
    ctx.progress.task_end("done");
    stages.mark("checkout");
    let order = install_order(infos);
    let names: Vec<String> = order
        .iter()
        .filter_map(|n| pkgs.iter().find(|p| &p.nevra == n).map(|p| p.name.clone()))
        .collect();
    let all: Vec<Script> = infos.iter().flat_map(|(_, i)| i.scripts.clone()).collect();
    let ordered = scripts::in_order(&all, &names);
    // While scripts run, the tree's /usr/etc is its /etc.
    let (usr_etc, etc) = (root.join("usr/etc"), root.join("etc"));
    if usr_etc.is_dir() && !etc.exists() {
        std::fs::rename(&usr_etc, &etc).context("Moving usr/etc to etc")?;
    }
    let ran = run_scripts(ctx, root, &etc, &ordered, infos, work);
    if etc.is_dir() && !usr_etc.exists() {
        std::fs::rename(&etc, &usr_etc).context("Moving etc back to usr/etc")?;
    }
    ran?;
    stages.mark("scripts");
    write_rpmdb(ctx, root, infos, &removed.names, work)?;
    stages.mark("rpmdb");
    Ok(())
}

/// Adds the packages to the rpm database of the tree at `root`, in install
/// order.
fn write_rpmdb(
    ctx: &Ctx,
    root: &Path,
    infos: &[(String, PackageInfo)],
    removed: &[String],
    work: &Workdir,
) -> Result<()> {
    ctx.progress.task_begin("Writing rpmdb");
    rpmdb::erase(root, removed, &work.path)?;
    let headers: Vec<(String, Vec<u8>)> = install_order(infos)
        .iter()
        .filter_map(|n| infos.iter().find(|(k, _)| k == n))
        .map(|(_, i)| (i.nevra.clone(), i.header.clone()))
        .collect();
    rpmdb::add(root, &headers, &work.path)?;
    ctx.progress.task_end("done");
    Ok(())
}

/// The scripts in order, with the owners of each package applied after the
/// `%pre` scripts (which may create the users).
fn run_scripts(
    ctx: &Ctx,
    root: &Path,
    etc: &Path,
    ordered: &[Script],
    infos: &[(String, PackageInfo)],
    work: &Workdir,
) -> Result<()> {
    let sandbox = if ordered.is_empty() {
        None
    } else {
        Some(Sandbox::new(root, &work.path)?)
    };
    for phase in [Phase::Pre, Phase::Post, Phase::PostTrans] {
        if phase == Phase::Post {
            for (_, info) in infos {
                assemble::apply_owners(root, etc, &info.entries)?;
            }
        }
        let these: Vec<&Script> = ordered.iter().filter(|s| s.phase == phase).collect();
        let (Some(sandbox), false) = (&sandbox, these.is_empty()) else {
            continue;
        };
        let label = phase.name().trim_start_matches('%');
        ctx.progress.task_begin(format!("Running {label} scripts"));
        for s in these {
            sandbox.run(s, "1", &ctx.progress, &ctx.cancellable)?;
        }
        ctx.progress.task_end("done");
    }
    Ok(())
}
