//! `rpm-ostree db diff [FROM_REV] [TO_REV]`: the package changes between two
//! commits, by default from the booted deployment to the pending one (or from
//! the rollback deployment to the booted one).

use anyhow::{Result, bail};
use clap::Args;
use std::fmt::Write;
use std::path::PathBuf;

use super::{RepoArg, commit_line, load_sysroot, resolve};
use crate::layering::diff::diff;
use crate::layering::pkgdb::diff_in_repo;
use crate::layering::pkglist::{Header, commit_headers};

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    repo: RepoArg,
    /// Output format: "diff" or "json" or (default) "block"
    #[arg(short = 'F', long, value_name = "FORMAT")]
    format: Option<String>,
    /// Also output RPM changelogs
    #[arg(short = 'c', long)]
    changelogs: bool,
    /// Use system root SYSROOT (default: /)
    #[arg(long, value_name = "SYSROOT", default_value = "/")]
    sysroot: PathBuf,
    /// Diff against deployments' base, not layered commits
    #[arg(long)]
    base: bool,
    /// Also output new advisories
    #[arg(short = 'a', long)]
    advisories: bool,
    #[arg(value_name = "FROM_REV TO_REV")]
    revs: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Block,
    Diff,
    Json,
}

/// A commit to diff and how to describe it.
struct Side {
    desc: String,
    csum: String,
}

fn usage(msg: &str) -> anyhow::Error {
    anyhow::anyhow!("usage error: {msg}")
}

/// The deployment's commit, or with `base` the base of a layered one.
fn deployment_commit(repo: &ostree::Repo, d: &ostree::Deployment, base: bool) -> String {
    let csum = d.csum().to_string();
    if !base {
        return csum;
    }
    let layered = repo.load_commit(&csum).ok().and_then(|(c, _)| {
        let meta = glib::VariantDict::new(Some(&c.child_value(0)));
        let is_layer = meta
            .lookup::<bool>("rpmostree.clientlayer")
            .ok()
            .flatten()
            .unwrap_or(false);
        is_layer
            .then(|| ostree::commit_get_parent(&c))
            .flatten()
            .map(|p| p.to_string())
    });
    layered.unwrap_or(csum)
}

pub(crate) fn run(a: DiffArgs) -> Result<()> {
    if a.revs.len() > 2 {
        return Err(usage("\"rpm-ostree db diff\" takes at most 2 arguments"));
    }
    let format = match a.format.as_deref() {
        None | Some("block") => Format::Block,
        Some("diff") => Format::Diff,
        Some("json") => Format::Json,
        Some(_) => {
            return Err(usage(
                "Format argument is invalid, pick one of: diff, block, json",
            ));
        }
    };
    if format == Format::Json && a.changelogs {
        return Err(usage("json format and --changelogs not supported"));
    }
    if format == Format::Diff && a.advisories {
        return Err(usage("diff format and --advisories not supported"));
    }
    let repo = a.repo.open(&a.sysroot)?;
    let (from, to) = sides(&a, &repo)?;
    let mut out = String::new();
    if format != Format::Json {
        let _ = writeln!(
            out,
            "{}",
            commit_line("ostree diff commit from:", &from.desc, &from.csum)
        );
        let _ = writeln!(
            out,
            "{}",
            commit_line("ostree diff commit to:  ", &to.desc, &to.csum)
        );
    }
    match format {
        Format::Block if a.changelogs => {
            let old = commit_headers(&repo, &from.csum)?;
            let new = commit_headers(&repo, &to.csum)?;
            out.push_str(&with_changelogs(&old, &new));
        }
        Format::Block => out.push_str(&diff_in_repo(&repo, &from.csum, &to.csum)?.block()),
        Format::Diff => out.push_str(&diff_in_repo(&repo, &from.csum, &to.csum)?.diff_lines()),
        Format::Json => {
            let d = diff_in_repo(&repo, &from.csum, &to.csum)?;
            let v = serde_json::json!({
                "ostree-commit-from": from.csum,
                "ostree-commit-to": to.csum,
                "pkgdiff": d.to_json(),
                "advisories": [],
            });
            // As upstream: no newline after the JSON.
            out.push_str(&serde_json::to_string_pretty(&v)?);
        }
    }
    // No commit carries advisories without repository metadata: nothing new.
    if a.advisories {
        out.push('\n');
    }
    crate::stdout::write(&out);
    Ok(())
}

/// FROM and TO: the arguments, else the deployments around the booted one.
fn sides(a: &DiffArgs, repo: &ostree::Repo) -> Result<(Side, Side)> {
    let rev = |r: &str| -> Result<Side> {
        Ok(Side {
            desc: r.to_string(),
            csum: resolve(repo, r)?,
        })
    };
    let booted = || -> Result<(ostree::Sysroot, ostree::Deployment)> {
        let sysroot = load_sysroot(&a.sysroot)?;
        let b = sysroot
            .booted_deployment()
            .ok_or_else(|| anyhow::anyhow!("Not booted into any deployment"))?;
        Ok((sysroot, b))
    };
    let dside = |desc: &str, d: &ostree::Deployment| Side {
        desc: desc.to_string(),
        csum: deployment_commit(repo, d, a.base),
    };
    match a.revs.as_slice() {
        [from, to] => Ok((rev(from)?, rev(to)?)),
        [to] => {
            let (_, b) = booted()?;
            Ok((dside("booted deployment", &b), rev(to)?))
        }
        _ => {
            let (sysroot, b) = booted()?;
            let (pending, rollback) = sysroot.query_deployments_for(None);
            match (pending, rollback) {
                (Some(p), _) => Ok((
                    dside("booted deployment", &b),
                    dside("pending deployment", &p),
                )),
                (None, Some(r)) => Ok((
                    dside("rollback deployment", &r),
                    dside("booted deployment", &b),
                )),
                (None, None) => bail!("No pending or rollback deployment to diff against"),
            }
        }
    }
}

/// `[E:]V-R.arch`.
fn evra(h: &Header) -> String {
    format!("{}.{}", h.pkg.evr(), h.pkg.arch)
}

/// The block format with each upgrade's new changelog entries (read from
/// the rpm databases themselves, which keep changelogs).
fn with_changelogs(old: &[Header], new: &[Header]) -> String {
    let find = |list: &[Header], nevra: &str| list.iter().find(|h| h.pkg.nevra() == nevra).cloned();
    let pkgs = |l: &[Header]| l.iter().map(|h| h.pkg.clone()).collect::<Vec<_>>();
    let d = diff(&pkgs(old), &pkgs(new));
    let mut out = String::new();
    let mut upgraded: Vec<(Header, Header)> = Vec::new();
    let mut downgraded: Vec<(Header, Header)> = Vec::new();
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for e in &d.entries {
        let o = e.old.as_ref().and_then(|p| find(old, &p.nevra()));
        let n = e.new.as_ref().and_then(|p| find(new, &p.nevra()));
        match (o, n, e.change) {
            (Some(o), Some(n), crate::pkgdiff::Change::Upgraded) => upgraded.push((o, n)),
            (Some(o), Some(n), _) => downgraded.push((o, n)),
            (Some(o), None, _) => removed.push(o),
            (None, Some(n), _) => added.push(n),
            _ => {}
        }
    }
    if !upgraded.is_empty() {
        out.push_str("Upgraded:\n");
        for (i, (o, n)) in upgraded.iter().enumerate() {
            let _ = writeln!(out, "  {} {} -> {}", o.pkg.name, evra(o), evra(n));
            // Packages built from one source share its changelog: print it once,
            // after the last of them.
            let next_same = upgraded
                .get(i + 1)
                .is_some_and(|(_, nn)| nn.sourcerpm.is_some() && nn.sourcerpm == n.sourcerpm);
            if !next_same {
                out.push_str(&new_changelog(o, n));
            }
        }
    }
    if !downgraded.is_empty() {
        out.push_str("Downgraded:\n");
        for (o, n) in &downgraded {
            let _ = writeln!(out, "  {} {} -> {}", o.pkg.name, evra(o), evra(n));
        }
    }
    for (word, list) in [("Removed", &removed), ("Added", &added)] {
        if !list.is_empty() {
            let _ = writeln!(out, "{word}:");
            for h in list.iter() {
                let _ = writeln!(out, "  {}", h.pkg.nevra());
            }
        }
    }
    out
}

/// The entries of `new`'s changelog that `old`'s does not have yet.
fn new_changelog(old: &Header, new: &Header) -> String {
    let mut out = String::new();
    let Some(newest_old) = old.changelog.first() else {
        return out;
    };
    for entry in &new.changelog {
        if entry.0 < newest_old.0 || entry == newest_old {
            break;
        }
        let date = glib::DateTime::from_unix_utc(entry.0 as i64)
            .ok()
            .and_then(|d| d.format("%a %b %d %Y").ok())
            .map(|s| s.to_string())
            .unwrap_or_default();
        let text = entry.2.replace('\n', "\n    ");
        let _ = write!(out, "    * {date} {}\n    {text}\n\n", entry.1);
    }
    out
}
