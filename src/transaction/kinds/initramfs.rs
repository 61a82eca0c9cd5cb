//! `SetInitramfsState` (local initramfs regeneration on/off, dracut arguments)
//! and `InitramfsEtc` (tracked `/etc` files): both a new deployment of the same
//! commit with a changed origin.

use anyhow::{Result, bail};
use std::collections::BTreeSet;

use super::{Ctx, Outcome};
use crate::deployment::origin::Origin;
use crate::deployment::write::{self, NewDeployment, merge_and_origin};

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

fn redeploy(
    ctx: &Ctx,
    osname: &str,
    merge: &ostree::Deployment,
    origin: &Origin,
    lock_finalization: bool,
) -> Result<()> {
    write::write(
        ctx,
        &NewDeployment {
            osname,
            commit: &merge.csum(),
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
        redeploy(
            ctx,
            &self.osname,
            &merge,
            &new_origin,
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
