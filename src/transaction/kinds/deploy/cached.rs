//! The cached update of the deploy family: the package diff of the booted
//! commit and the update, and the `CachedUpdate` it records.

use anyhow::Result;
use glib::prelude::*;

use super::{Deploy, PKG_TYPE_BASE, Plan};
use crate::deployment::status::deployment_id;
use crate::deployment::{cached_update, signatures};
use crate::layering::pkgdb;
use crate::transaction::kinds::Ctx;

impl Deploy {
    /// Starts the package diff of the booted commit and the update (`None`
    /// off a booted system, or when the update is the booted commit).
    pub(super) fn start_update_diff(&self, ctx: &Ctx, plan: &Plan) -> Option<pkgdb::PendingDiff> {
        let booted = ctx.sysroot.booted_deployment().filter(|_| ctx.is_root())?;
        let from = booted.csum().to_string();
        if from == plan.csum {
            return None;
        }
        let repo = ctx.sysroot_path.join("ostree/repo");
        pkgdb::PendingDiff::start(&repo, &from, &plan.csum, &ctx.cancellable)
            .map_err(|e| glib::g_warning!("rpm-ostreed", "Starting the package diff: {e:#}"))
            .ok()
    }

    /// Writes (or clears) the cached update against the booted deployment.
    pub(super) fn record_cached_update(
        &self,
        ctx: &Ctx,
        plan: &Plan,
        diff: Option<pkgdb::PendingDiff>,
        staged: Option<&ostree::Deployment>,
    ) -> Result<()> {
        let Some(booted) = ctx.sysroot.booted_deployment().filter(|_| ctx.is_root()) else {
            return Ok(());
        };
        let booted_csum = booted.csum().to_string();
        if plan.csum == booted_csum {
            if self.flags.check_only {
                ctx.progress.message("No updates available.");
            }
            return cached_update::store(&ctx.sysroot_path, None);
        }
        let repo = ctx.sysroot.repo();
        let mut verify = |remote: &str, csum: &str| signatures::verify(&repo, remote, csum);
        let mut d = cached_update::commit_details(
            &repo,
            &self.osname,
            &plan.refspec,
            &plan.csum,
            &mut verify,
        );
        d.insert("ref-has-new-commit".into(), true.to_variant());
        // Without a package database the update has no package diff.
        match diff.map(pkgdb::PendingDiff::wait) {
            Some(Ok(diff)) if !diff.is_empty() => {
                d.insert("rpm-diff".into(), diff.to_rpm_diff(PKG_TYPE_BASE));
            }
            Some(Err(e)) => {
                glib::g_message!("rpm-ostreed", "No package diff for the update: {e:#}")
            }
            _ => {}
        }
        if let Some(new) = staged {
            d.insert("deployment".into(), deployment_id(new).to_variant());
        }
        d.insert("update-sha256".into(), booted_csum.to_variant());
        if self.flags.check_only {
            ctx.progress.message(format!(
                "Update available: {}",
                d.get("version")
                    .and_then(|v| v.str().map(String::from))
                    .unwrap_or_else(|| plan.csum.clone())
            ));
        }
        cached_update::store(&ctx.sysroot_path, Some(&d))
    }
}
