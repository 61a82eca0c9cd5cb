//! `rpm-ostree db version COMMIT...`: the rpmdb version of commits, the
//! number of packages and a SHA-256 over their `[epoch:]name-version-release.arch`
//! strings in rpm's order.

use anyhow::Result;
use clap::Args;
use std::fmt::Write;

use super::{RepoArg, commit_line, resolve};
use crate::layering::pkglist::commit_headers;

#[derive(Debug, Args)]
pub(crate) struct VersionArgs {
    #[command(flatten)]
    repo: RepoArg,
    #[arg(value_name = "COMMIT")]
    commits: Vec<String>,
}

pub(crate) fn run(a: VersionArgs) -> Result<()> {
    let repo = a.repo.open(std::path::Path::new("/"))?;
    let mut out = String::new();
    for rev in &a.commits {
        let csum = resolve(&repo, rev)?;
        let mut pkgs: Vec<_> = commit_headers(&repo, &csum)?
            .into_iter()
            .map(|h| h.pkg)
            .collect();
        pkgs.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.cmp_evr(b)));
        let mut sha = glib::Checksum::new(glib::ChecksumType::Sha256).expect("sha256 exists");
        for p in &pkgs {
            let envra = if p.epoch == 0 {
                format!("{}-{}-{}.{}", p.name, p.version, p.release, p.arch)
            } else {
                format!(
                    "{}:{}-{}-{}.{}",
                    p.epoch, p.name, p.version, p.release, p.arch
                )
            };
            sha.update(envra.as_bytes());
        }
        let version = format!("{}:{}", pkgs.len(), sha.string().unwrap_or_default());
        let _ = writeln!(out, "{}", commit_line("ostree commit:", rev, &csum));
        let _ = writeln!(out, "  rpmdbv is: {version:>66}");
    }
    crate::stdout::write(&out);
    Ok(())
}
