//! `Rollback`: make the rollback deployment the default one, or, when there is
//! only a pending deployment, put the current one back on top (undo).

use anyhow::{Result, bail};

use crate::deployment::cleanup::cleanup_sysroot;
use crate::deployment::write::write_deployments;

use super::{Ctx, Outcome};

pub(crate) struct Rollback {
    pub osname: String,
    pub reboot: bool,
}

fn same(a: &ostree::Deployment, b: &ostree::Deployment) -> bool {
    a.osname() == b.osname() && a.csum() == b.csum() && a.deployserial() == b.deployserial()
}

/// The deployments of `osname` around the current one: (pending, current, rollback).
/// Booted: current = the booted deployment. Offline: current = the first one.
pub(crate) fn around_current(
    sysroot: &ostree::Sysroot,
    osname: &str,
) -> (
    Option<ostree::Deployment>,
    Option<ostree::Deployment>,
    Option<ostree::Deployment>,
) {
    let all: Vec<ostree::Deployment> = sysroot
        .deployments()
        .into_iter()
        .filter(|d| d.osname() == osname)
        .collect();
    let booted = sysroot.booted_deployment().filter(|b| b.osname() == osname);
    let current_pos = match booted {
        Some(b) => all.iter().position(|d| same(d, &b)),
        None => (!all.is_empty()).then_some(0),
    };
    let Some(pos) = current_pos else {
        return (all.first().cloned(), None, None);
    };
    let pending = all[..pos].first().cloned();
    // `Clone::clone` shares the object: libostree compares deployments by
    // identity (the inherent `Deployment::clone` makes a new one).
    (
        pending,
        Some(Clone::clone(&all[pos])),
        all.get(pos + 1).cloned(),
    )
}

impl super::Kind for Rollback {
    fn reboots(&self) -> bool {
        self.reboot
    }

    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let sysroot = &ctx.sysroot;
        if sysroot.staged_deployment().is_some() {
            bail!("Staged deployment (remove with cleanup -p)");
        }
        let (pending, current, rollback) = around_current(sysroot, &self.osname);
        let target = match (rollback, pending) {
            (Some(r), _) => r,
            (None, Some(_)) => match current {
                Some(c) => c,
                None => bail!("No rollback deployment found"),
            },
            (None, None) => bail!("No rollback deployment found"),
        };
        ctx.progress.message(format!(
            "Moving '{}.{}' to be first deployment",
            target.csum(),
            target.deployserial()
        ));
        let all = sysroot.deployments();
        if all.first().is_some_and(|d| same(d, &target)) {
            return Ok(Outcome::default());
        }
        let mut new_order = vec![Clone::clone(&target)];
        new_order.extend(all.into_iter().filter(|d| !same(d, &target)));
        write_deployments(ctx, &new_order)?;
        // What libostree's own write would have cleaned, in the helper.
        cleanup_sysroot(ctx)?;
        Ok(Outcome {
            reboot: self.reboot,
        })
    }
}
