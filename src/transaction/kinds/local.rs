//! The local RPMs of a deploy-family call: imported into the pkgcache
//! before anything else, their `<sha256>:<nevra>` entries added to the
//! call's package changes; undone when the transaction fails after them.

use anyhow::Result;
use std::fs::File;
use std::sync::Arc;

use super::Ctx;
use crate::deployment::status::base_of;
use crate::layering::assemble::Workdir;
use crate::layering::local::{self, Imported};
use crate::layering::request::PackageChanges;
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
    let mut imported = Vec::new();
    for (list, into) in [
        (&files.install, &mut changes.install_local),
        (&files.replace, &mut changes.replace_local),
    ] {
        match local::import_files(&repo, list, &work.path, labeler.as_ref(), &ctx.cancellable) {
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
