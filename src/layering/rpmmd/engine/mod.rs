//! The helper's side (`rpm-ostreed-dnf internal-rpmmd`): a libdnf context
//! configured from a deployment, then the repository list, a metadata
//! refresh, or a query. Queries use cached metadata only: a repository
//! without it is left out (with a line in the log), never fetched by a
//! read-only, unauthorized call.

mod gpg;
mod metadata;
mod resolve;

use anyhow::{Context as _, Result, anyhow, bail};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::search::{GROUPS, pass_filter, take_new_names};
use super::{HelperRequest, PackageInfo, Progress, Reply, RepoInfo, Request, Setup, releasever};
use crate::ffi::dnf::{self, Context, Package, Query, Repo, State};
use crate::helper::protocol::{self, Emitter};
use dnf_sys as sys;
use metadata::{FOREVER, Freshness, Load, enabled};

/// Entry point of the helper program.
pub fn helper_main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(super::HELPER_VERB) {
        eprintln!("usage: {} {}", super::HELPER_PROGRAM, super::HELPER_VERB);
        return ExitCode::from(2);
    }
    crate::ffi::malloc::fixed_mmap_threshold();
    let started = std::time::Instant::now();
    let what = std::cell::Cell::new("request");
    let code = protocol::serve(|req: HelperRequest, out: &Emitter<Progress>| {
        what.set(match req.request {
            Request::ListRepos => "ListRepos",
            Request::Refresh { .. } => "RefreshMd",
            Request::WhatProvides(_) => "WhatProvides",
            Request::GetPackages(_) => "GetPackages",
            Request::Search(_) => "Search",
            Request::Resolve(_) => "Resolve",
        });
        run(req, out)
    });
    // The daemon's log gets what each helper cost.
    eprintln!(
        "{}: {} in {} ms, peak RSS {} KiB",
        super::HELPER_PROGRAM,
        what.get(),
        started.elapsed().as_millis(),
        peak_rss_kib().unwrap_or(0)
    );
    code
}

/// VmHWM of this process.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run(req: HelperRequest, out: &Emitter<Progress>) -> Result<Reply> {
    let install_root = match &req.request {
        Request::Resolve(r) => r.base_root.clone(),
        _ => PathBuf::from("/"),
    };
    let ctx = context(&req.setup, &install_root)?;
    match req.request {
        Request::ListRepos => Ok(Reply::Repos(ctx.repos().iter().map(repo_info).collect())),
        Request::Refresh { force } => {
            let fresh = if force {
                Freshness::Force
            } else {
                Freshness::Default
            };
            let filelists =
                req.setup.download_filelists || super::filelists_cached(&req.setup.cache_dir);
            let load = Load {
                filelists,
                rpmdb: false,
            };
            metadata::refresh(&ctx, fresh, load, out).map(|()| Reply::Refreshed)
        }
        Request::Resolve(r) => resolve::resolve(&ctx, &req.setup, &r, out).map(Reply::Resolved),
        Request::WhatProvides(provides) => {
            let mut q = cached_query(&ctx, &req.setup)?;
            let Some(q) = q.as_mut() else {
                return Ok(Reply::Packages(Vec::new()));
            };
            let reldeps: Vec<&str> = provides.iter().map(String::as_str).collect();
            if q.filter_provides_in(&reldeps) != 0 {
                bail!("Invalid provide in {provides:?}");
            }
            q.latest_per_arch();
            Ok(Reply::Packages(
                q.run().iter().map(|p| info(p, None)).collect(),
            ))
        }
        Request::GetPackages(names) => {
            let mut q = cached_query(&ctx, &req.setup)?;
            let Some(q) = q.as_mut() else {
                return Ok(Reply::Packages(Vec::new()));
            };
            let mut found = Vec::new();
            for name in &names {
                q.clear();
                q.filter(sys::HY_PKG_NAME, sys::HY_EQ, name);
                q.latest_per_arch();
                found.extend(q.run().iter().map(|p| info(p, Some(name.as_str()))));
            }
            Ok(Reply::Packages(found))
        }
        Request::Search(terms) => {
            let mut q = cached_query(&ctx, &req.setup)?;
            let Some(q) = q.as_mut() else {
                return Ok(Reply::Packages(Vec::new()));
            };
            Ok(Reply::Packages(search(q, &terms)))
        }
    }
}

/// `dir` as libdnf must be told it when the install root is `root`: libdnf
/// puts the install root in front of the variables directories, and each
/// `/..` takes one component of it back off (upstream's trick too).
fn outside_root(root: &Path, dir: &Path) -> PathBuf {
    let depth = root
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .count();
    let mut p = PathBuf::from("/");
    for _ in 0..depth {
        p.push("..");
    }
    p.join(dir.strip_prefix("/").unwrap_or(dir))
}

/// A context for the OS at `setup.root`, repositories loaded; packages are
/// installed in `install_root` (which has the rpm database of `@System`).
fn context(setup: &Setup, install_root: &Path) -> Result<Context> {
    let conf = setup.root.join("etc/dnf/dnf.conf");
    dnf::set_globals(if conf.is_file() {
        &conf
    } else {
        Path::new("/dev/null")
    });
    let ctx = Context::new();
    let repos_dir = setup.repos_dir();
    ctx.set_repos_dirs(&[&repos_dir]);
    let vars = setup.vars_dirs().map(|d| outside_root(install_root, &d));
    ctx.set_vars_dirs(&[&vars[0], &vars[1]]);
    ctx.set_release_ver(&releasever::of_root(setup.release_root())?);
    ctx.set_cache_dir(&setup.cache_dir.join("repomd"));
    ctx.set_solv_dir(&setup.cache_dir.join("solv"));
    ctx.set_lock_dir(&setup.lock_dir);
    ctx.set_install_root(install_root);
    ctx.set_source_root(&setup.root);
    ctx.set_user_agent(&format!("rpm-ostree/{}", env!("CARGO_PKG_VERSION")));
    if let Ok(proxy) = std::env::var("http_proxy") {
        ctx.set_http_proxy(&proxy);
    }
    ctx.set_check_disk_space(false);
    ctx.set_check_transaction(false);
    ctx.set_write_history(false);
    ctx.set_keep_cache(true);
    ctx.set_zchunk(false);
    // Debian's rpm keeps its database in ~/.rpmdb by default.
    ctx.set_rpm_macro("_dbpath", "/usr/share/rpm");
    for dir in [
        setup.cache_dir.join("repomd"),
        setup.cache_dir.join("solv"),
        setup.lock_dir.clone(),
    ] {
        std::fs::create_dir_all(&dir).with_context(|| format!("Creating {}", dir.display()))?;
    }
    clear_stale_locks(&setup.lock_dir);
    ctx.setup().map_err(|e| anyhow!("{}", e.message()))?;
    Ok(ctx)
}

/// Removes libdnf's lock files (`<lock_dir>/dnf-*.lock`, holding a pid)
/// whose process is gone or a zombie (a helper killed with the daemon, not
/// reaped yet by an init that is slow to): libdnf takes any existing
/// `/proc/PID` for a live holder.
fn clear_stale_locks(lock_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(lock_dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "lock") {
            continue;
        }
        let pid: Option<i32> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        if !pid.is_some_and(crate::procstat::is_running) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn repo_info(r: &Repo) -> RepoInfo {
    RepoInfo {
        id: r.id(),
        description: r.description(),
        is_devel: r.is_devel(),
        is_source: r.is_source(),
        enabled: r.enabled() & sys::DNF_REPO_ENABLED_PACKAGES != 0,
        filename: PathBuf::from(r.filename()),
    }
}

/// A query over the cached metadata of the enabled repositories; `None`
/// when no repository is enabled. Repositories without a complete cache are
/// left out; if that leaves none, the error says to refresh.
fn cached_query(ctx: &Context, setup: &Setup) -> Result<Option<Query>> {
    ctx.set_enable_filelists(setup.download_filelists);
    let repos = enabled(ctx);
    if repos.is_empty() {
        return Ok(None);
    }
    let mut usable = 0;
    for repo in &repos {
        match repo.check(FOREVER, &State::new()) {
            Ok(()) => usable += 1,
            Err(e) => {
                eprintln!(
                    "rpm-md repo '{}' has no usable cached metadata ({}); left out",
                    repo.id(),
                    e.message()
                );
                repo.set_enabled(sys::DNF_REPO_ENABLED_NONE);
            }
        }
    }
    if usable == 0 {
        bail!("No cached rpm-md metadata; run \"rpm-ostree refresh-md\" first");
    }
    let load = Load {
        filelists: setup.download_filelists,
        rpmdb: false,
    };
    metadata::load(ctx, load, &State::new())?;
    let sack = ctx
        .sack()
        .ok_or_else(|| anyhow!("libdnf made no package sack"))?;
    Ok(Some(Query::new(&sack)))
}

fn info(p: &Package, key: Option<&str>) -> PackageInfo {
    PackageInfo {
        key: key.map(String::from),
        name: p.name(),
        epoch: p.epoch(),
        version: p.version(),
        release: p.release(),
        arch: p.arch(),
        nevra: p.nevra(),
        evr: p.evr(),
        summary: p.summary(),
        reponame: p.reponame(),
    }
}

/// The match groups of `terms`, in order (see [`super::search`]).
fn search(q: &mut Query, terms: &[String]) -> Vec<PackageInfo> {
    let mut found = Vec::new();
    for (key, fields) in GROUPS {
        let mut seen = HashSet::new();
        for substring in [false, true] {
            q.clear();
            let (cmp, patterns) = pass_filter(terms, substring);
            let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
            for field in *fields {
                q.filter_in(*field, cmp, &patterns);
            }
            q.latest_per_arch();
            let pkgs = q.run();
            let names: Vec<String> = pkgs.iter().map(Package::name).collect();
            for i in take_new_names(names.iter().map(String::as_str), &mut seen) {
                found.push(info(&pkgs[i], Some(key)));
            }
        }
    }
    found
}
