//! The local RPMs of a deploy-family call: imported into the pkgcache
//! before anything else, their `<sha256>:<nevra>` entries added to the
//! call's package changes (undone when the transaction fails after them);
//! and what a layering makes of local replacements.

use anyhow::{Result, bail};
use std::collections::BTreeSet;
use std::fs::File;
use std::sync::Arc;

use super::Ctx;
use crate::deployment::status::base_of;
use crate::layering::assemble::Workdir;
use crate::layering::local::{self, Imported};
use crate::layering::pkgcache;
use crate::layering::request::PackageChanges;
use crate::layering::rpmmd::{BasePackage, Resolution, ResolvedPackage};
use crate::layering::selinux;

/// The files of `install-local-packages` and `override-replace-local-packages`.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalFiles {
    pub install: Arc<Vec<File>>,
    pub replace: Arc<Vec<File>>,
}

impl LocalFiles {
    pub(crate) fn is_empty(&self) -> bool {
        self.install.is_empty() && self.replace.is_empty()
    }
}

/// Imports `files`, labelled for the base of `merge`; returns `changes`
/// with their entries, and what was imported.
pub(crate) fn import(
    ctx: &Ctx,
    files: &LocalFiles,
    merge: &ostree::Deployment,
    changes: &PackageChanges,
) -> Result<(PackageChanges, Vec<Imported>)> {
    let mut changes = changes.clone();
    if files.is_empty() {
        return Ok((changes, Vec::new()));
    }
    let repo = ctx.sysroot.repo();
    let base = base_of(&repo, &merge.csum());
    let labeler = selinux::of_commit(&repo, &base)?;
    let work = Workdir::new(&ctx.sysroot_path.join("ostree/repo"))?;
    ctx.progress.task_begin("Importing local packages");
    let cached = pkgcache::index(&repo)?;
    let mut imported = Vec::new();
    for (list, into) in [
        (&files.install, &mut changes.install_local),
        (&files.replace, &mut changes.replace_local),
    ] {
        let these = local::import_files(
            &repo,
            &cached,
            list,
            &work.path,
            labeler.as_ref(),
            &ctx.cancellable,
        );
        match these {
            Ok(these) => {
                into.extend(these.iter().map(|i| i.entry.clone()));
                imported.extend(these);
            }
            Err(e) => {
                local::undo(&repo, &imported);
                return Err(e);
            }
        }
    }
    ctx.progress.task_end("done");
    Ok((changes, imported))
}

/// Replacements the base makes moot: refused when newly asked for, else
/// kept inactive, as upstream says.
pub(crate) fn check_replacements(
    ctx: &Ctx,
    res: &Resolution,
    new: &BTreeSet<String>,
) -> Result<()> {
    // Local replacements are asked for by NEVRA, remote ones by name.
    let asked =
        |n: &String| new.contains(n) || local::entry_name(n).is_some_and(|x| new.contains(&x));
    if let Some((nevra, in_base)) = res.inactive_replacements.iter().find(|(n, _)| asked(n)) {
        if *in_base {
            bail!("Package '{nevra}' is already in the base");
        }
        let name = crate::layering::local::entry_name(nevra).unwrap_or_default();
        bail!("No package '{name}' in the base to replace with {nevra}");
    }
    if !res.inactive_replacements.is_empty() {
        ctx.progress.message("Inactive base replacements:");
        for (n, _) in &res.inactive_replacements {
            ctx.progress.message(format!("  {n}"));
        }
    }
    Ok(())
}

/// The replacements as the commit records them: (source, new, old), the
/// local ones (`remote` false; no source) or those from repositories
/// (`repo=<id>`).
pub(crate) fn replaced_pairs(
    res: &Resolution,
    remote: bool,
) -> Vec<(Option<String>, ResolvedPackage, BasePackage)> {
    res.replaced
        .iter()
        .filter_map(|(new, old)| {
            let from = res
                .replaced_from
                .iter()
                .find(|(n, _)| n == new)
                .map(|(_, repo)| format!("repo={repo}"));
            if from.is_some() != remote {
                return None;
            }
            let p = res.packages.iter().find(|p| &p.nevra == new)?;
            Some((from, p.clone(), old.clone()))
        })
        .collect()
}
