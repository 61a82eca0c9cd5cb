//! `SetInitramfsState` (local initramfs regeneration on/off, dracut arguments)
//! and `InitramfsEtc` (tracked `/etc` files): both a new deployment of the same
//! commit with a changed origin.

use anyhow::{Result, bail};

use super::Outcome;
use crate::deployment::origin::Origin;
use crate::transaction::new_deployment::{self, NewDeployment, merge_and_origin};
use crate::transaction::worker::WorkerContext;

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

/// Refuses paths outside `/etc`.
pub(crate) fn check_etc_paths<'a>(
    paths: impl IntoIterator<Item = &'a String>,
) -> Result<(), String> {
    for p in paths {
        let normal = std::path::Path::new(p).components().all(|c| {
            matches!(
                c,
                std::path::Component::RootDir | std::path::Component::Normal(_)
            )
        });
        if !p.starts_with("/etc/") || !normal {
            return Err(format!("Path outside /etc forbidden: {p}"));
        }
    }
    Ok(())
}

fn redeploy(
    ctx: &WorkerContext,
    osname: &str,
    merge: &ostree::Deployment,
    origin: &Origin,
    lock_finalization: bool,
) -> Result<()> {
    new_deployment::write(
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
    fn execute(&self, ctx: &WorkerContext) -> Result<Outcome> {
        let (merge, origin) = merge_and_origin(ctx, &self.osname)?;
        if origin.regenerate_initramfs() == self.regenerate && self.args.is_empty() {
            bail!(
                "initramfs regeneration state is already {}",
                if self.regenerate {
                    "enabled"
                } else {
                    "disabled"
                }
            );
        }
        let new_origin = Origin::parse(&origin.to_data())?;
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
    /// The tracked list after this request.
    pub(crate) fn apply(&self, current: &[String]) -> Vec<String> {
        let mut files: Vec<String> = if self.untrack_all {
            Vec::new()
        } else {
            current.to_vec()
        };
        files.retain(|f| !self.untrack.contains(f));
        for t in &self.track {
            if !files.contains(t) {
                files.push(t.clone());
            }
        }
        files.sort();
        files
    }
}

impl super::Kind for InitramfsEtc {
    fn execute(&self, ctx: &WorkerContext) -> Result<Outcome> {
        let (merge, origin) = merge_and_origin(ctx, &self.osname)?;
        let current = origin.initramfs_etc();
        let mut sorted = current.clone();
        sorted.sort();
        let new = self.apply(&current);
        if new == sorted && !self.force_sync {
            ctx.progress.message("No changes.");
            return Ok(Outcome::default());
        }
        let new_origin = Origin::parse(&origin.to_data())?;
        new_origin.set_initramfs_etc(&new);
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
    fn etc_paths() {
        assert!(check_etc_paths(&["/etc/foo".to_string()]).is_ok());
        for bad in ["/usr/etc/foo", "etc/foo", "/etc/../root/x", "/etc"] {
            assert_eq!(
                check_etc_paths(&[bad.to_string()]).unwrap_err(),
                format!("Path outside /etc forbidden: {bad}")
            );
        }
    }

    #[test]
    fn tracking() {
        let req = InitramfsEtc {
            track: vec!["/etc/b".into(), "/etc/a".into()],
            untrack: vec!["/etc/c".into()],
            ..Default::default()
        };
        assert_eq!(
            req.apply(&["/etc/c".into(), "/etc/a".into()]),
            ["/etc/a", "/etc/b"]
        );
        let all = InitramfsEtc {
            untrack_all: true,
            track: vec!["/etc/z".into()],
            ..Default::default()
        };
        assert_eq!(all.apply(&["/etc/a".into()]), ["/etc/z"]);
    }
}
