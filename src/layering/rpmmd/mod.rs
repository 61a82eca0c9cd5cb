//! Repositories and their rpm-md metadata: what `ListRepos`, `RefreshMd`,
//! `WhatProvides`, `GetPackages` and `Search` need. libdnf does the work, in
//! the helper process `rpm-ostreed-dnf` (libdnf keeps global state and peaks
//! at 160 MiB on a Fedora-size repository; the daemon never loads it). This
//! module holds what crosses the helper boundary and the daemon's side of
//! it; [`engine`] is the helper's side. `ModifyYumRepo`'s edit of a `.repo`
//! file is plain Rust ([`repofile`]).

pub mod engine;
mod releasever;
pub(crate) mod repofile;
mod search;

use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helper::{Helper, Program};

/// The helper executable, installed beside the daemon's.
pub(crate) const HELPER_PROGRAM: &str = "rpm-ostreed-dnf";
const HELPER_VERB: &str = "internal-rpmmd";

/// Where an OS's repositories are configured and their metadata cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Setup {
    /// The deployment whose `/etc` holds the `.repo` files (`etc/yum.repos.d`)
    /// and variables (`etc/dnf/vars`), and whose tree gives `$releasever`.
    pub root: PathBuf,
    /// The tree whose rpm database or os-release gives `$releasever`, when
    /// not `root` (a layering: the new base).
    pub release_root: Option<PathBuf>,
    /// rpm-ostree's cache directory: metadata in `repomd/`, `.solv` in `solv/`.
    pub cache_dir: PathBuf,
    /// libdnf's lock directory.
    pub lock_dir: PathBuf,
    /// `DOWNLOAD_FILELISTS=true` in the daemon's environment: fetch and load
    /// filelists everywhere (else only when already cached, or when asked).
    pub download_filelists: bool,
}

impl Setup {
    /// The setup of the OS `osname`: the repositories of the deployment the
    /// system runs when it runs this OS (its live `/etc`), else of its merge
    /// deployment; its cache; the daemon's environment. `None` without any
    /// deployment of the OS.
    pub(crate) fn for_os(
        sysroot_path: &Path,
        sysroot: &ostree::Sysroot,
        osname: &str,
        lock_dir: PathBuf,
    ) -> Option<Self> {
        let d = sysroot
            .booted_deployment()
            .filter(|b| b.osname() == osname)
            .or_else(|| sysroot.merge_deployment(Some(osname)))?;
        Some(Self {
            root: crate::deployment::root_of(sysroot_path, sysroot, &d),
            release_root: None,
            cache_dir: crate::deployment::cache_dir(sysroot_path, osname),
            lock_dir,
            download_filelists: download_filelists_from_env(),
        })
    }

    /// Where `$releasever` is read from.
    pub(crate) fn release_root(&self) -> &Path {
        self.release_root.as_deref().unwrap_or(&self.root)
    }

    pub(crate) fn repos_dir(&self) -> PathBuf {
        self.root.join("etc/yum.repos.d")
    }

    fn vars_dirs(&self) -> [PathBuf; 2] {
        [
            self.root.join("etc/dnf/vars"),
            self.root.join("etc/yum/vars"),
        ]
    }
}

/// `DOWNLOAD_FILELISTS` as upstream reads it: `true`, in any case.
pub(crate) fn download_filelists_from_env() -> bool {
    std::env::var("DOWNLOAD_FILELISTS").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// What the helper is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Request {
    /// The configured repositories; reads no metadata.
    ListRepos,
    /// Fetch what is expired (everything with `force`), then load it.
    Refresh {
        force: bool,
    },
    WhatProvides(Vec<String>),
    GetPackages(Vec<String>),
    Search(Vec<String>),
    /// Resolve package requests against a base and the repositories, and
    /// download what the pkgcache does not have.
    Resolve(ResolveRequest),
}

/// A layering's question to the helper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResolveRequest {
    /// A scratch directory whose `usr/share/rpm` holds a copy of the base's
    /// rpm database (libdnf writes beside the database it reads).
    pub base_root: PathBuf,
    /// Requested names, provides or paths.
    pub packages: Vec<String>,
    /// Use the cached metadata however old; fetch none.
    pub cache_only: bool,
    /// NEVRA -> repodata checksum of the packages the pkgcache has already.
    pub cached: BTreeMap<String, String>,
    /// Where to download the packages the pkgcache does not have (none:
    /// resolve only).
    pub download_dir: Option<PathBuf>,
    /// Base packages to remove, by name.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Local packages to install: RPM files (headers from the pkgcache).
    #[serde(default)]
    pub local: Vec<PathBuf>,
    /// Local packages replacing the base packages of the same names.
    #[serde(default)]
    pub replace_local: Vec<PathBuf>,
    /// Base packages to replace with the newest of that name in a
    /// repository: (repository id, names).
    #[serde(default)]
    pub replace_remote: Vec<(String, Vec<String>)>,
}

/// What a layering installs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Resolution {
    /// Requests the base provides already: the request, and the NEVRAs that
    /// provide it.
    pub inactive: Vec<(String, Vec<String>)>,
    /// The packages to layer, sorted by NEVRA.
    pub packages: Vec<ResolvedPackage>,
    /// The enabled repositories: id and generation time of their metadata.
    pub repos: Vec<(String, u64)>,
    /// The base packages removed, as asked.
    #[serde(default)]
    pub removed: Vec<BasePackage>,
    /// Removals asked for that the base has no package for.
    #[serde(default)]
    pub absent_removals: Vec<String>,
    /// Base packages replaced: the new package (among `packages`) and the
    /// base package it replaces.
    #[serde(default)]
    pub replaced: Vec<(String, BasePackage)>,
    /// The repository of each remote replacement: (new NEVRA, repository id).
    #[serde(default)]
    pub replaced_from: Vec<(String, String)>,
    /// Replacements the base makes moot, by NEVRA: true when the base has
    /// that very NEVRA, false when it has no package of that name.
    #[serde(default)]
    pub inactive_replacements: Vec<(String, bool)>,
}

/// A package of the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BasePackage {
    pub nevra: String,
    pub name: String,
    pub epoch: u64,
    pub version: String,
    pub release: String,
    pub arch: String,
}

/// A package a layering installs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResolvedPackage {
    pub nevra: String,
    pub name: String,
    pub epoch: u64,
    pub version: String,
    pub release: String,
    pub arch: String,
    /// The repository it comes from.
    pub repo: String,
    /// The checksum of the package file in the metadata (`sha256:...`).
    pub checksum: String,
    pub size: u64,
    /// The downloaded file (none when cached, or when only resolving).
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HelperRequest {
    pub setup: Setup,
    pub request: Request,
}

/// A configured repository, as `ListRepos` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RepoInfo {
    pub id: String,
    /// `name=`, variables substituted; `None` without one.
    pub description: Option<String>,
    pub is_devel: bool,
    pub is_source: bool,
    /// Packages enabled.
    pub enabled: bool,
    /// The `.repo` file that defines it.
    pub filename: PathBuf,
}

/// A package of the metadata, as the query methods show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PackageInfo {
    /// `GetPackages`: the name asked for; `Search`: the match group.
    pub key: Option<String>,
    pub name: String,
    pub epoch: u64,
    pub version: String,
    pub release: String,
    pub arch: String,
    pub nevra: String,
    pub evr: String,
    pub summary: Option<String>,
    pub reponame: String,
}

/// The helper's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reply {
    Repos(Vec<RepoInfo>),
    Packages(Vec<PackageInfo>),
    Refreshed,
    Resolved(Resolution),
}

/// What the helper reports on its way (the transaction's signals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Progress {
    Message(String),
    /// A step with a "done" at its end (`TaskBegin`).
    Task(String),
    /// The end of that step (`TaskEnd`).
    TaskDone(String),
    /// A step with a percentage (`PercentProgress`).
    Percent(String, u32),
    /// The end of the current step.
    End,
}

impl Progress {
    /// Passes the helper's progress on as the transaction's signals.
    pub(crate) fn report(self, sink: &crate::progress::ProgressSink) {
        use crate::progress::Event;
        match self {
            Self::Message(t) => sink.message(t),
            Self::Task(t) => sink.task_begin(t),
            Self::TaskDone(t) => sink.task_end(t),
            Self::Percent(t, pct) => sink.send(Event::PercentProgress(t, pct)),
            Self::End => sink.progress_end(),
        }
    }
}

/// The helper is quiet for at most this long (a metadata download reports
/// percentages; loading a large repository reports little).
const STALL: Duration = Duration::from_secs(600);

/// Asks the helper; `progress` gets what it reports on the way;
/// `cancellable` kills it.
pub(crate) fn ask(
    setup: &Setup,
    request: Request,
    progress: impl FnMut(Progress),
    cancellable: &gio::Cancellable,
) -> Result<Reply> {
    let req = HelperRequest {
        setup: setup.clone(),
        request,
    };
    let program = Program::Sibling(HELPER_PROGRAM);
    Helper::<Progress, Reply>::spawn_program(&program, HELPER_VERB, &req, cancellable)?
        .wait(STALL, progress)
}

/// [`ask`] for the repository list.
pub(crate) fn list_repos(setup: &Setup, cancellable: &gio::Cancellable) -> Result<Vec<RepoInfo>> {
    match ask(setup, Request::ListRepos, |_| {}, cancellable)? {
        Reply::Repos(r) => Ok(r),
        other => Err(anyhow!("Unexpected answer of the rpm-md helper: {other:?}")),
    }
}

/// [`ask`] for a resolution; `progress` gets the helper's messages.
pub(crate) fn resolve(
    setup: &Setup,
    request: ResolveRequest,
    progress: impl FnMut(Progress),
    cancellable: &gio::Cancellable,
) -> Result<Resolution> {
    match ask(setup, Request::Resolve(request), progress, cancellable)? {
        Reply::Resolved(r) => Ok(r),
        other => Err(anyhow!("Unexpected answer of the rpm-md helper: {other:?}")),
    }
}

/// [`ask`] for packages.
pub(crate) fn packages(
    setup: &Setup,
    request: Request,
    cancellable: &gio::Cancellable,
) -> Result<Vec<PackageInfo>> {
    match ask(setup, request, |_| {}, cancellable)? {
        Reply::Packages(p) => Ok(p),
        other => Err(anyhow!("Unexpected answer of the rpm-md helper: {other:?}")),
    }
}

/// True if a filelists file was downloaded for some repository under `cache_dir`.
pub(crate) fn filelists_cached(cache_dir: &Path) -> bool {
    let has = |dir: &Path, pred: &dyn Fn(&str) -> bool| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_str().is_some_and(pred))
        })
    };
    if has(&cache_dir.join("solv"), &|n| {
        n.ends_with("-filenames.solvx")
    }) {
        return true;
    }
    std::fs::read_dir(cache_dir.join("repomd")).is_ok_and(|repos| {
        repos
            .flatten()
            .any(|r| has(&r.path().join("repodata"), &|n| n.contains("-filelists.")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_cross_as_json() {
        let req = HelperRequest {
            setup: Setup {
                root: "/r".into(),
                release_root: None,
                cache_dir: "/c".into(),
                lock_dir: "/l".into(),
                download_filelists: false,
            },
            request: Request::Search(vec!["a".into()]),
        };
        let text = serde_json::to_string(&req).unwrap();
        assert!(text.contains(r#""request":{"search":["a"]}"#), "{text}");
        let back: HelperRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(back.request, req.request);
        let r: Reply = serde_json::from_str(r#""refreshed""#).unwrap();
        assert_eq!(r, Reply::Refreshed);
    }

    #[test]
    fn filelists_are_found_in_either_cache() {
        let dir = std::env::temp_dir().join(format!("rpmmd-fl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("repomd/r-1-x86_64/repodata")).unwrap();
        assert!(!filelists_cached(&dir));
        std::fs::write(
            dir.join("repomd/r-1-x86_64/repodata/abc-filelists.xml.gz"),
            "",
        )
        .unwrap();
        assert!(filelists_cached(&dir));
        std::fs::remove_dir_all(dir.join("repomd")).unwrap();
        std::fs::create_dir_all(dir.join("solv")).unwrap();
        std::fs::write(dir.join("solv/r-filenames.solvx"), "").unwrap();
        assert!(filelists_cached(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
