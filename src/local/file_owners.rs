//! `rpm-ostreed internal-file-owners REPO REV`: the packages of the tree of
//! REV with the files each owns, as JSON on stdout, for `rpm-ostree compose
//! container-encapsulate` (which groups a tree's files into image layers by
//! package, and does not link libostree itself). `[]` when the tree has no
//! rpm database.

use anyhow::{Context, Result, anyhow};
use std::process::ExitCode;

/// The components the container helper's `encapsulate` takes: each
/// package's files go together, packages of one source RPM are neighbours,
/// and what changed least recently is packed first.
fn components(repo: &str, rev: &str) -> Result<serde_json::Value> {
    let r = ostree::Repo::new_for_path(repo);
    r.open(gio::Cancellable::NONE)
        .with_context(|| format!("Opening repository {repo}"))?;
    let csum = r
        .resolve_rev(rev, false)?
        .ok_or_else(|| anyhow!("Ref {rev} not found"))?;
    let owners = rpmostree_pkglist::pkglist::commit_file_owners(&r, &csum)?.unwrap_or_default();
    let oldest = owners.iter().map(|o| o.buildtime).min().unwrap_or(0);
    let hours = |t: u64| u32::try_from((t - oldest) / 3600).unwrap_or(u32::MAX);
    Ok(owners
        .into_iter()
        .map(|o| {
            serde_json::json!({
                "identifier": o.pkg.nevra(),
                "srcid": o.sourcerpm.unwrap_or_else(|| o.pkg.name.clone()),
                "name": o.pkg.name,
                "change_time_offset": hours(o.buildtime),
                "change_frequency": u32::try_from(o.changelog_entries).unwrap_or(u32::MAX),
                "paths": o.files,
            })
        })
        .collect())
}

pub fn main(args: &[String]) -> ExitCode {
    let [repo, rev] = args else {
        eprintln!("usage: rpm-ostreed internal-file-owners REPO REV");
        return ExitCode::from(2);
    };
    match components(repo, rev) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
