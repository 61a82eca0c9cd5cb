//! `SetInitramfsState` (local initramfs regeneration on/off, dracut arguments:
//! a layered commit on the same base whose initramfs the tree's dracut made,
//! or the plain base again) and `InitramfsEtc` (tracked `/etc` files: the
//! same commit, with a changed origin).

use anyhow::{Result, anyhow, bail};
use std::collections::BTreeSet;

use super::layer::{self, LayerFlags, Layered, NewRequests};
use super::{Ctx, Outcome};
use crate::deployment::origin::Origin;
use crate::deployment::status::base_of;
use crate::deployment::write::{self, NewDeployment, merge_and_origin};
use crate::layering::rpmmd::Setup;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InitramfsState {
    pub osname: String,
    pub regenerate: bool,
    pub args: Vec<String>,
    pub reboot: bool,
    pub lock_finalization: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InitramfsEtc {
    pub osname: String,
    pub track: Vec<String>,
    pub untrack: Vec<String>,
    pub untrack_all: bool,
    pub force_sync: bool,
    pub reboot: bool,
    pub lock_finalization: bool,
}

/// What a deployment of `origin` on the base of `merge` is: that base, or
/// a layered commit on it (from what is cached: no metadata is fetched).
fn assembled(
    ctx: &Ctx,
    osname: &str,
    merge: &ostree::Deployment,
    origin: &Origin,
) -> Result<String> {
    let repo = ctx.sysroot.repo();
    let base = base_of(&repo, &merge.csum());
    if !origin.needs_local_assembly() {
        return Ok(base);
    }
    let setup = Setup::for_os(
        &ctx.sysroot_path,
        &ctx.sysroot,
        osname,
        ctx.runtime_dir.join("lock"),
    )
    .ok_or_else(|| anyhow!("No deployments found for os {osname}"))?;
    let flags = LayerFlags {
        cache_only: true,
        ..Default::default()
    };
    let previous = merge.csum();
    let new = NewRequests::default();
    match layer::layer(ctx, &setup, &base, origin, Some(&previous), &new, flags)? {
        Layered::Commit(c) => Ok(c),
        Layered::Unchanged => Ok(previous.to_string()),
        Layered::Stopped => bail!("The layering of {osname} stopped"),
    }
}

fn redeploy(
    ctx: &Ctx,
    osname: &str,
    merge: &ostree::Deployment,
    origin: &Origin,
    commit: &str,
    lock_finalization: bool,
) -> Result<()> {
    write::write(
        ctx,
        &NewDeployment {
            osname,
            commit,
            origin,
            merge,
            kargs: None,
            lock_finalization,
        },
    )
    .map(|_| ())
}

impl super::Kind for InitramfsState {
    fn reboots(&self) -> bool {
        self.reboot
    }

    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let (merge, origin) = merge_and_origin(ctx, &self.osname)?;
        if origin.regenerate_initramfs == self.regenerate && self.args.is_empty() {
            bail!(
                "initramfs regeneration state is already {}",
                if self.regenerate {
                    "enabled"
                } else {
                    "disabled"
                }
            );
        }
        let mut new_origin = origin.clone();
        new_origin.set_initramfs_regeneration(self.regenerate, &self.args);
        let commit = assembled(ctx, &self.osname, &merge, &new_origin)?;
        redeploy(
            ctx,
            &self.osname,
            &merge,
            &new_origin,
            &commit,
            self.lock_finalization,
        )?;
        Ok(Outcome {
            reboot: self.reboot,
        })
    }
}

impl InitramfsEtc {
    /// The tracked set after this request.
    pub(crate) fn apply(&self, current: &BTreeSet<String>) -> BTreeSet<String> {
        let mut files = if self.untrack_all {
            BTreeSet::new()
        } else {
            current.clone()
        };
        files.retain(|f| !self.untrack.contains(f));
        files.extend(self.track.iter().cloned());
        files
    }
}

impl super::Kind for InitramfsEtc {
    fn reboots(&self) -> bool {
        self.reboot
    }

    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let (merge, origin) = merge_and_origin(ctx, &self.osname)?;
        let new = self.apply(&origin.initramfs_etc);
        if new == origin.initramfs_etc && !self.force_sync {
            ctx.progress.message("No changes.");
            return Ok(Outcome::default());
        }
        let mut new_origin = origin.clone();
        new_origin.initramfs_etc = new;
        redeploy(
            ctx,
            &self.osname,
            &merge,
            &new_origin,
            &merge.csum(),
            self.lock_finalization,
        )?;
        Ok(Outcome {
            reboot: self.reboot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking() {
        let req = InitramfsEtc {
            track: vec!["/etc/b".into(), "/etc/a".into()],
            untrack: vec!["/etc/c".into()],
            ..Default::default()
        };
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            req.apply(&set(&["/etc/c", "/etc/a"])),
            set(&["/etc/a", "/etc/b"])
        );
        let all = InitramfsEtc {
            untrack_all: true,
            track: vec!["/etc/z".into()],
            ..Default::default()
        };
        assert_eq!(all.apply(&set(&["/etc/a"])), set(&["/etc/z"]));
    }
}
