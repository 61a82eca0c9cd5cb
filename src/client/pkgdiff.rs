//! Package diffs the CLI shows (after a new deployment, in `status`): read
//! from the repository by `rpm-ostree db diff`, which the daemon's
//! executable runs (the client itself does not link libostree).

use anyhow::{Context, Result, anyhow};
use glib::Variant;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::pkgdiff::PkgDiff;

/// Where the daemon's executable is installed (set by meson at build time).
const LIBEXECDIR: &str = match option_env!("RPMOSTREE_LIBEXECDIR") {
    Some(d) => d,
    None => "/usr/libexec",
};

/// `rpm-ostreed`: beside this binary, else in the libexec directory.
pub fn daemon_executable() -> PathBuf {
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("rpm-ostreed")))
        .filter(|p| p.is_file());
    sibling.unwrap_or_else(|| PathBuf::from(LIBEXECDIR).join("rpm-ostreed"))
}

/// What `rpm-ostreed ARGS` (a command that reads the repository with
/// libostree, which the client does not link) prints as JSON; its error
/// line, if it fails. `what` names the command in errors.
pub(crate) fn daemon_executable_json(
    args: &[&std::ffi::OsStr],
    what: &str,
) -> Result<serde_json::Value> {
    let out = std::process::Command::new(daemon_executable())
        .args(args)
        .output()
        .with_context(|| format!("Running {what}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(anyhow!("{}", err.trim().trim_start_matches("error: ")));
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("Reading {what}"))
}

/// The changes from commit `from` to commit `to` of the sysroot at `sysroot`.
pub(crate) fn commits_diff(sysroot: &str, from: &str, to: &str) -> Result<PkgDiff> {
    let repo = PathBuf::from(sysroot).join("ostree/repo");
    let mut args: Vec<&std::ffi::OsStr> = ["db", "diff", "--format=json", "-r"]
        .iter()
        .map(std::ffi::OsStr::new)
        .collect();
    args.extend([repo.as_os_str(), from.as_ref(), to.as_ref()]);
    let v = daemon_executable_json(&args, "rpm-ostree db diff")?;
    PkgDiff::from_json(&v["pkgdiff"]).ok_or_else(|| anyhow!("Unexpected rpm-ostree db diff output"))
}

fn field(d: &BTreeMap<String, Variant>, k: &str) -> Option<String> {
    d.get(k).and_then(|v| v.str().map(String::from))
}

/// The diff from the booted deployment to `new` (deployment dicts), when
/// there is a booted deployment and `new` is another one: the `rpm-diff` of
/// the OS's `cached` update when the daemon computed it for `new` (none when
/// it has none), else read from the repository.
pub(crate) fn booted_to(
    sysroot: &str,
    deployments: &[BTreeMap<String, Variant>],
    new: &BTreeMap<String, Variant>,
    cached: &BTreeMap<String, Variant>,
) -> Option<Result<PkgDiff>> {
    let booted = deployments
        .iter()
        .find(|d| d.get("booted").and_then(|v| v.get::<bool>()) == Some(true))?;
    if field(booted, "id") == field(new, "id") {
        return None;
    }
    if field(cached, "deployment").is_some() && field(cached, "deployment") == field(new, "id") {
        return cached.get("rpm-diff").map(|v| {
            PkgDiff::from_rpm_diff(v).ok_or_else(|| anyhow!("Unexpected rpm-diff in CachedUpdate"))
        });
    }
    let (from, to) = (field(booted, "checksum")?, field(new, "checksum")?);
    Some(commits_diff(sysroot, &from, &to))
}
