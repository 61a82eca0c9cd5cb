//! `rpm-ostree db diff|list|version` (hidden alias `rpm`): package lists and
//! package diffs of commits, read straight from a repository (`-r PATH`, or
//! the sysroot's).

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod diff;
mod list;
mod version;

#[derive(Debug, Parser)]
#[command(name = "rpm-ostree db", about = "Commands to query the RPM database")]
struct Db {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show package changes between two commits
    Diff(diff::DiffArgs),
    /// List packages within commits
    List(list::ListArgs),
    /// Show rpmdb version of packages within the commits
    Version(version::VersionArgs),
}

/// The repository option every `db` command has.
#[derive(Debug, Args)]
pub(crate) struct RepoArg {
    /// Path to OSTree repository (defaults to /sysroot/ostree/repo)
    #[arg(short = 'r', long = "repo", value_name = "PATH")]
    repo: Option<PathBuf>,
}

impl RepoArg {
    /// The repository: `-r PATH`, else that of the sysroot at `sysroot`.
    pub(crate) fn open(&self, sysroot: &std::path::Path) -> Result<ostree::Repo> {
        match &self.repo {
            Some(p) => {
                let repo = ostree::Repo::new_for_path(p);
                repo.open(gio::Cancellable::NONE)
                    .with_context(|| format!("Opening repository {}", p.display()))?;
                Ok(repo)
            }
            None => Ok(load_sysroot(sysroot)?.repo()),
        }
    }
}

pub(crate) use crate::deployment::load_sysroot;

/// The checksum `rev` names in `repo`.
pub(crate) fn resolve(repo: &ostree::Repo, rev: &str) -> Result<String> {
    match repo.resolve_rev(rev, false)? {
        Some(c) => Ok(c.to_string()),
        None => bail!("Rev {rev} not found"),
    }
}

/// The header line of a commit: `<prefix> REV (CHECKSUM)`, or
/// `<prefix> CHECKSUM` when the revision is the checksum.
pub(crate) fn commit_line(prefix: &str, rev: &str, csum: &str) -> String {
    if rev == csum {
        format!("{prefix} {csum}")
    } else {
        format!("{prefix} {rev} ({csum})")
    }
}

/// Entry point of `rpm-ostreed db ARGS...` (`rpm-ostree db` executes it).
pub fn main(args: Vec<std::ffi::OsString>) -> ExitCode {
    let db = match Db::try_parse_from(args) {
        Ok(d) => d,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match db.command {
        Command::Diff(a) => diff::run(a),
        Command::List(a) => list::run(a),
        Command::Version(a) => version::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
