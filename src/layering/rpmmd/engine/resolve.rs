//! A layering's depsolve, in the helper: the base's packages (`@System`,
//! from a copy of its rpm database) all locked, the requests the base
//! already provides set aside as inactive, the others installed with their
//! dependencies; upstream's refusals when the solution would remove or
//! replace a base package; then the download of what the pkgcache lacks,
//! each file checked against the metadata's checksum.

use anyhow::{Result, anyhow, bail};
use std::collections::BTreeMap;
use std::path::Path;

use super::super::{BasePackage, Progress, Resolution, ResolveRequest, ResolvedPackage, Setup};
use super::metadata::{self, Freshness, Load};
use crate::ffi::dnf::{Context, Package, Query, Sack, State};
use crate::helper::protocol::Emitter;
use dnf_sys as sys;

pub(super) fn resolve(
    ctx: &Context,
    setup: &Setup,
    req: &ResolveRequest,
    out: &Emitter<Progress>,
) -> Result<Resolution> {
    // A path needs the file lists; a name or provide does not.
    let filelists = setup.download_filelists || req.packages.iter().any(|p| p.contains('/'));
    let fresh = if req.cache_only {
        Freshness::CacheOnly
    } else {
        Freshness::Default
    };
    let load = Load {
        filelists,
        rpmdb: true,
    };
    // Only removals: the base's packages are all it takes, no repository.
    if req.packages.is_empty()
        && req.local.is_empty()
        && req.replace_local.is_empty()
        && req.replace_remote.is_empty()
    {
        for r in metadata::enabled(ctx) {
            r.set_enabled(sys::DNF_REPO_ENABLED_NONE);
        }
    }
    metadata::refresh(ctx, fresh, load, out)?;
    let sack = ctx
        .sack()
        .ok_or_else(|| anyhow!("libdnf made no package sack"))?;
    let (active, inactive) = split_inactive(&sack, &req.packages);
    let (removals, absent_removals) = base_packages(&sack, &req.remove)?;
    let local = local_packages(&sack, &req.local)?;
    let (mut replacements, mut inactive_replacements) = replacements(&sack, &req.replace_local)?;
    let (remote, inactive_remote) = remote_replacements(&sack, &req.replace_remote)?;
    let replaced_from = remote
        .iter()
        .map(|(repo, (new, _))| (new.nevra(), repo.clone()))
        .collect();
    replacements.extend(remote.into_iter().map(|(_, pair)| pair));
    inactive_replacements.extend(inactive_remote);
    let removed: Vec<BasePackage> = removals.iter().map(base_package).collect();
    let replaced = replacements
        .iter()
        .map(|(new, old)| (new.nevra(), base_package(old)))
        .collect();
    let nothing = active.is_empty() && local.is_empty() && replacements.is_empty();
    let packages = if nothing && removals.is_empty() {
        Vec::new()
    } else {
        out.progress(Progress::Task("Resolving dependencies".into()));
        let goal = Changes {
            requests: &active,
            removals: &removals,
            local: &local,
            replacements: &replacements,
        };
        let installs = solve(ctx, &sack, &goal)?;
        out.progress(Progress::TaskDone("done".into()));
        match &req.download_dir {
            Some(dir) => download(ctx, installs, &req.cached, dir, out)?,
            None => installs.iter().map(|p| resolved(p, None)).collect(),
        }
    };
    let repos = metadata::enabled(ctx)
        .iter()
        .map(|r| (r.id(), r.timestamp_generated()))
        .collect();
    Ok(Resolution {
        inactive,
        packages,
        repos,
        removed,
        absent_removals,
        replaced,
        replaced_from,
        inactive_replacements,
    })
}

/// A replacement from a repository: (repository id, (new, old)).
type RemoteReplacement = (String, (Package, Package));

/// Replacements the base makes moot: (NEVRA, true if the base has it).
type Inactive = Vec<(String, bool)>;

/// The newest package of each name in its repository, with the base
/// package it replaces, and those the base makes moot (as [`replacements`]).
fn remote_replacements(
    sack: &Sack,
    sources: &[(String, Vec<String>)],
) -> Result<(Vec<RemoteReplacement>, Inactive)> {
    let (mut active, mut inactive) = (Vec::new(), Vec::new());
    for (repo, names) in sources {
        for name in names {
            let mut q = Query::new(sack);
            q.filter(sys::HY_PKG_REPONAME, sys::HY_EQ, repo);
            q.filter(sys::HY_PKG_NAME, sys::HY_EQ, name);
            q.latest_per_arch();
            let Some(pkg) = q.run().into_iter().next() else {
                bail!("No package '{name}' in repo '{repo}'");
            };
            let mut base = system(sack);
            base.filter(sys::HY_PKG_NAME, sys::HY_EQ, name);
            match base.run().into_iter().next() {
                Some(old) if old.nevra() != pkg.nevra() => {
                    active.push((repo.clone(), (pkg, old)));
                }
                Some(_) => inactive.push((pkg.nevra(), true)),
                None => inactive.push((pkg.nevra(), false)),
            }
        }
    }
    Ok((active, inactive))
}

/// The local packages (RPM files) added to the sack; one the base has
/// already, that very NEVRA, is refused.
fn local_packages(sack: &Sack, files: &[std::path::PathBuf]) -> Result<Vec<Package>> {
    let base: Vec<String> = system(sack).run().iter().map(Package::nevra).collect();
    let mut out = Vec::new();
    for f in files {
        let pkg = sack
            .add_cmdline_package(f)
            .ok_or_else(|| anyhow!("Reading {}: not a readable RPM", f.display()))?;
        if base.contains(&pkg.nevra()) {
            bail!("Package '{}' is already in the base", pkg.nevra());
        }
        out.push(pkg);
    }
    Ok(out)
}

/// The local replacements (RPM files) with the base package each replaces,
/// and those the base makes moot: no package of that name, or that very
/// NEVRA already (by NEVRA; true for the latter).
type Replacements = (Vec<(Package, Package)>, Inactive);

fn replacements(sack: &Sack, files: &[std::path::PathBuf]) -> Result<Replacements> {
    let (mut active, mut inactive) = (Vec::new(), Vec::new());
    for f in files {
        let pkg = sack
            .add_cmdline_package(f)
            .ok_or_else(|| anyhow!("Reading {}: not a readable RPM", f.display()))?;
        let mut q = system(sack);
        q.filter(sys::HY_PKG_NAME, sys::HY_EQ, &pkg.name());
        let olds = q.run();
        match olds.into_iter().next() {
            Some(old) if old.nevra() != pkg.nevra() => active.push((pkg, old)),
            Some(_) => inactive.push((pkg.nevra(), true)),
            None => inactive.push((pkg.nevra(), false)),
        }
    }
    Ok((active, inactive))
}

/// The installed packages named `names`, one each, and the names no
/// installed package has.
fn base_packages(sack: &Sack, names: &[String]) -> Result<(Vec<Package>, Vec<String>)> {
    let (mut out, mut absent) = (Vec::new(), Vec::new());
    for n in names {
        let mut q = system(sack);
        q.filter(sys::HY_PKG_NAME, sys::HY_EQ, n);
        let mut found = q.run();
        match found.len() {
            0 => absent.push(n.clone()),
            1 => out.push(found.remove(0)),
            _ => bail!("Multiple packages match \"{n}\""),
        }
    }
    Ok((out, absent))
}

fn base_package(p: &Package) -> BasePackage {
    BasePackage {
        nevra: p.nevra(),
        name: p.name(),
        epoch: p.epoch(),
        version: p.version(),
        release: p.release(),
        arch: p.arch(),
    }
}

/// The installed packages.
fn system(sack: &Sack) -> Query {
    let mut q = Query::new(sack);
    q.filter(sys::HY_PKG_REPONAME, sys::HY_EQ, sys::HY_SYSTEM_REPO_NAME);
    q
}

/// The requests the base does not provide yet, and those it does (with
/// the NEVRAs providing them): by name or provide, or by file for a path.
fn split_inactive(sack: &Sack, requests: &[String]) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut active = Vec::new();
    let mut inactive = Vec::new();
    for r in requests {
        let mut q = system(sack);
        let filtered = if r.starts_with('/') {
            q.filter(sys::HY_PKG_FILE, sys::HY_EQ, r) == 0
        } else {
            q.filter_provides_in(&[r.as_str()]) == 0
        };
        let found: Vec<String> = if filtered {
            q.run().iter().map(Package::nevra).collect()
        } else {
            Vec::new()
        };
        if found.is_empty() {
            active.push(r.clone());
        } else {
            inactive.push((r.clone(), found));
        }
    }
    (active, inactive)
}

fn nevras(pkgs: &[Package]) -> String {
    let mut v: Vec<String> = pkgs.iter().map(Package::nevra).collect();
    v.sort();
    v.join(", ")
}

/// What a depsolve changes of the base.
struct Changes<'a> {
    requests: &'a [String],
    removals: &'a [Package],
    local: &'a [Package],
    /// (new, old): the old base package goes, the new one takes its place.
    replacements: &'a [(Package, Package)],
}

/// The packages to install (replacements included), every base package
/// locked but those removed or replaced.
fn solve(ctx: &Context, sack: &Sack, c: &Changes) -> Result<Vec<Package>> {
    let goal = ctx.goal();
    let removing: Vec<String> = c.removals.iter().map(Package::nevra).collect();
    let replacing: Vec<String> = c.replacements.iter().map(|(_, o)| o.nevra()).collect();
    let new: Vec<String> = c.replacements.iter().map(|(n, _)| n.nevra()).collect();
    for pkg in system(sack).run() {
        if removing.contains(&pkg.nevra()) || replacing.contains(&pkg.nevra()) {
            continue;
        }
        goal.lock(&pkg)
            .map_err(|e| anyhow!("Locking {}: {}", pkg.nevra(), e.message()))?;
    }
    for pkg in c.removals {
        if !goal.erase(pkg) {
            bail!("Cannot remove {}", pkg.nevra());
        }
    }
    for pkg in c.local.iter().chain(c.replacements.iter().map(|(n, _)| n)) {
        if !goal.install(pkg) {
            bail!("Cannot install {}", pkg.nevra());
        }
    }
    let missing: Vec<&str> = c
        .requests
        .iter()
        .filter(|r| ctx.install(r).is_err())
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        bail!("Packages not found: {}", missing.join(", "));
    }
    goal.depsolve(sys::DNF_INSTALL | sys::DNF_ALLOW_UNINSTALL)
        .map_err(|e| anyhow!("{}", e.message()))?;
    let removed: Vec<Package> = goal
        .erasures()
        .into_iter()
        .filter(|p| !removing.contains(&p.nevra()) && !replacing.contains(&p.nevra()))
        .collect();
    if !removed.is_empty() {
        bail!("Base packages would be removed: {}", nevras(&removed));
    }
    let mut changed = goal.upgrades();
    changed.extend(goal.downgrades());
    let (asked, mut forbidden): (Vec<Package>, Vec<Package>) =
        changed.into_iter().partition(|p| new.contains(&p.nevra()));
    forbidden.extend(goal.reinstalls());
    forbidden.extend(
        goal.obsoleted()
            .into_iter()
            .filter(|p| !replacing.contains(&p.nevra())),
    );
    if !forbidden.is_empty() {
        bail!(
            "Forbidden base package replacements: {}\n\
             This likely means that some of your layered packages have requirements on newer or \
             older versions of some base packages. Doing this is not currently supported.",
            nevras(&forbidden)
        );
    }
    let mut installs = goal.installs();
    installs.extend(asked);
    installs.sort_by_key(Package::nevra);
    Ok(installs)
}

fn resolved(p: &Package, path: Option<&Path>) -> ResolvedPackage {
    ResolvedPackage {
        nevra: p.nevra(),
        name: p.name(),
        epoch: p.epoch(),
        version: p.version(),
        release: p.release(),
        arch: p.arch(),
        repo: p.reponame(),
        checksum: p.checksum().unwrap_or_default(),
        size: p.download_size(),
        path: path.map(Path::to_path_buf),
    }
}

/// Downloads into `dir` the packages of `installs` that the pkgcache does
/// not have (same NEVRA and repodata checksum), per repository.
fn download(
    ctx: &Context,
    installs: Vec<Package>,
    cached: &BTreeMap<String, String>,
    dir: &Path,
    out: &Emitter<Progress>,
) -> Result<Vec<ResolvedPackage>> {
    // Local packages are in the pkgcache already.
    let have = |p: &Package| {
        p.reponame() == sys::HY_CMDLINE_REPO_NAME
            || p.checksum()
                .is_some_and(|c| cached.get(&p.nevra()) == Some(&c))
    };
    let wanted: Vec<&Package> = installs.iter().filter(|p| !have(p)).collect();
    if !wanted.is_empty() {
        let size: u64 = wanted.iter().map(|p| p.download_size()).sum();
        let n = wanted.len();
        out.progress(Progress::Message(format!(
            "Will download: {n} package{} ({})",
            if n == 1 { "" } else { "s" },
            glib::format_size(size)
        )));
        std::fs::create_dir_all(dir)?;
    }
    let mut by_repo: BTreeMap<String, Vec<&Package>> = BTreeMap::new();
    for p in &wanted {
        by_repo.entry(p.reponame()).or_default().push(p);
    }
    for (id, pkgs) in &by_repo {
        let repo = ctx
            .repos()
            .into_iter()
            .find(|r| r.id() == *id)
            .ok_or_else(|| anyhow!("Package {} has no repository", pkgs[0].nevra()))?;
        let text = format!("Downloading from '{id}'");
        let state = State::new();
        let (o, t) = (out.clone(), text.clone());
        state.on_percentage(move |p| o.progress(Progress::Percent(t.clone(), p)));
        out.progress(Progress::Percent(text, 0));
        repo.download(pkgs, dir, &state)
            .map_err(|e| anyhow!("Downloading from '{id}': {}", e.message()))?;
        out.progress(Progress::End);
        if repo.gpgcheck() {
            let files: Vec<(String, std::path::PathBuf)> = pkgs
                .iter()
                .map(|p| (p.nevra(), downloaded(dir, p)))
                .collect();
            super::gpg::check(id, &repo.public_keys(), &files, &dir.join(".gpg"))?;
        }
    }
    Ok(installs
        .iter()
        .map(|p| {
            let path = (!have(p)).then(|| downloaded(dir, p));
            resolved(p, path.as_deref())
        })
        .collect())
}

/// Where `dnf_repo_download_packages` puts `p` in `dir`.
fn downloaded(dir: &Path, p: &Package) -> std::path::PathBuf {
    let location = p.location();
    dir.join(location.rsplit('/').next().unwrap_or(&location))
}
