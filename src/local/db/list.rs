//! `rpm-ostree db list REV... [PREFIX-PKGNAME...]`: the packages of commits,
//! optionally only those matching shell-style patterns (case-insensitive,
//! against the name, `name-evr.arch`, `name.arch` or `name-version-release`).

use anyhow::Result;
use clap::Args;
use std::fmt::Write;

use super::{RepoArg, commit_line, resolve};
use crate::layering::pkglist::{commit_headers, commit_packages};

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    repo: RepoArg,
    #[arg(value_name = "REV... [PREFIX-PKGNAME...]")]
    args: Vec<String>,
}

fn matches(patterns: &[glob::Pattern], p: &crate::layering::nevra::Package) -> bool {
    let opts = glob::MatchOptions {
        case_sensitive: false,
        require_literal_separator: false,
        require_literal_leading_dot: false,
    };
    let forms = [
        p.name.clone(),
        p.nevra(),
        format!("{}.{}", p.name, p.arch),
        format!("{}-{}-{}", p.name, p.version, p.release),
    ];
    patterns
        .iter()
        .any(|pat| forms.iter().any(|f| pat.matches_with(f, opts)))
}

pub(crate) fn run(a: ListArgs) -> Result<()> {
    let repo = a.repo.open(std::path::Path::new("/"))?;
    // Revisions first; the first argument that is none starts the patterns.
    let split = a
        .args
        .iter()
        .position(|r| !matches!(repo.resolve_rev(r, true), Ok(Some(_))))
        .unwrap_or(a.args.len());
    let (revs, patterns) = a.args.split_at(split);
    let patterns: Vec<glob::Pattern> = patterns
        .iter()
        .map(|p| {
            glob::Pattern::new(p).unwrap_or_else(|_| {
                glob::Pattern::new(&glob::Pattern::escape(p)).expect("an escaped pattern is valid")
            })
        })
        .collect();
    let mut out = String::new();
    for rev in revs {
        let csum = resolve(&repo, rev)?;
        let _ = writeln!(out, "{}", commit_line("ostree commit:", rev, &csum));
        if patterns.is_empty() {
            for p in commit_packages(&repo, &csum)? {
                let _ = writeln!(out, " {}", p.nevra());
            }
        } else {
            for h in commit_headers(&repo, &csum)? {
                if matches(&patterns, &h.pkg) {
                    let _ = writeln!(out, " {}", h.pkg.nevra());
                }
            }
        }
    }
    crate::stdout::write(&out);
    Ok(())
}
