//! `Cleanup` and `ClearRollbackTarget`: remove pending and/or rollback
//! deployments (pinned ones are kept), prune the repository, clear the cache.

use anyhow::{Context, Result};

use super::rollback::around_current;
use super::{Ctx, Outcome};
use crate::deployment::cleanup::{cleanup_sysroot, freed_message};
use crate::deployment::write::write_deployments;

/// What to clean, from the `elements` of `Cleanup`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cleanup {
    pub osname: String,
    pub base: bool,
    pub pending: bool,
    pub rollback: bool,
    pub repomd: bool,
}

impl Cleanup {
    /// Parses `Cleanup`'s elements; an unknown one is refused with the contract's text.
    pub(crate) fn from_elements(osname: &str, elements: &[String]) -> Result<Self, String> {
        let mut c = Self {
            osname: osname.to_string(),
            ..Default::default()
        };
        for e in elements {
            match e.as_str() {
                "base" => c.base = true,
                "pending-deploy" => c.pending = true,
                "rollback-deploy" => c.rollback = true,
                "repomd" => c.repomd = true,
                other => return Err(format!("Invalid cleanup type: {other}")),
            }
        }
        Ok(c)
    }
}

fn same(a: &ostree::Deployment, b: &ostree::Deployment) -> bool {
    a.osname() == b.osname() && a.csum() == b.csum() && a.deployserial() == b.deployserial()
}

impl super::Kind for Cleanup {
    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let sysroot = &ctx.sysroot;
        let mut removed = 0usize;
        if self.pending || self.rollback {
            let all = sysroot.deployments();
            let (_, current, _) = around_current(sysroot, &self.osname);
            let current_pos = current
                .as_ref()
                .and_then(|c| all.iter().position(|d| same(d, c)));
            let keep: Vec<ostree::Deployment> = all
                .iter()
                .enumerate()
                .filter(|(i, d)| {
                    let mine = d.osname() == self.osname.as_str();
                    let before = current_pos.is_some_and(|p| *i < p);
                    let after = current_pos.is_some_and(|p| *i > p);
                    let doomed = mine
                        && !d.is_pinned()
                        && ((self.pending && before) || (self.rollback && after));
                    !doomed
                })
                .map(|(_, d)| Clone::clone(d))
                .collect();
            removed = all.len() - keep.len();
            if removed > 0 {
                write_deployments(ctx, &keep)?;
            } else {
                ctx.progress.message("Deployments unchanged.");
            }
        }
        if self.base || removed > 0 {
            ctx.progress.task_begin("Cleaning up");
            let now = crate::deployment::load_sysroot(&ctx.sysroot_path)?;
            let branches = crate::layering::pkgcache::gc(&now)?;
            crate::container::prune_unused(&now, &ctx.sysroot_path, true, &ctx.cancellable)?;
            let pruned = cleanup_sysroot(ctx)?;
            ctx.progress.task_end("done");
            if let Some(msg) = freed_message(&pruned, branches) {
                ctx.progress.message(&msg);
            }
        }
        if self.repomd {
            let dir = crate::deployment::cache_dir(&ctx.sysroot_path, &self.osname);
            if dir.exists() {
                for entry in std::fs::read_dir(&dir)? {
                    let p = entry?.path();
                    let r = if p.is_dir() && !p.is_symlink() {
                        std::fs::remove_dir_all(&p)
                    } else {
                        std::fs::remove_file(&p)
                    };
                    r.with_context(|| format!("Removing {}", p.display()))?;
                }
            }
        }
        Ok(Outcome::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements() {
        let c = Cleanup::from_elements(
            "os",
            &["base".into(), "pending-deploy".into(), "repomd".into()],
        )
        .unwrap();
        assert!(c.base && c.pending && c.repomd && !c.rollback);
        assert_eq!(
            Cleanup::from_elements("os", &["bogus".into()]).unwrap_err(),
            "Invalid cleanup type: bogus"
        );
    }
}
