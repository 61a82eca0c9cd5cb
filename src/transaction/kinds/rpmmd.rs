//! `RefreshMd` (fetch what is expired of the OS's rpm-md metadata, through
//! the rpm-md helper) and `ModifyYumRepo` (enable or disable a repository
//! in its `.repo` file).

use anyhow::{Result, anyhow};

use super::{Ctx, Outcome};
use crate::layering::rpmmd::{self, Progress, Reply, Setup, repofile};

/// The rpm-md setup of the OS.
fn setup(ctx: &Ctx, osname: &str) -> Result<Setup> {
    Setup::for_os(
        &ctx.sysroot_path,
        &ctx.sysroot,
        osname,
        ctx.runtime_dir.join("lock"),
    )
    .ok_or_else(|| anyhow!("No deployments found for os {osname}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefreshMd {
    pub osname: String,
    pub force: bool,
}

impl super::Kind for RefreshMd {
    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let setup = setup(ctx, &self.osname)?;
        let request = rpmmd::Request::Refresh { force: self.force };
        let report = |p: Progress| p.report(&ctx.progress);
        match rpmmd::ask(&setup, request, report, &ctx.cancellable)? {
            Reply::Refreshed => Ok(Outcome::default()),
            other => Err(anyhow!("Unexpected answer of the rpm-md helper: {other:?}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModifyRepo {
    pub osname: String,
    pub repo: String,
    /// In the order of the call.
    pub settings: Vec<(String, String)>,
}

impl super::Kind for ModifyRepo {
    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let setup = setup(ctx, &self.osname)?;
        let repos = rpmmd::list_repos(&setup, &ctx.cancellable)?;
        let repo = repos
            .iter()
            .find(|r| r.id == self.repo)
            .ok_or_else(|| anyhow!("Yum repo '{}' not found", self.repo))?;
        repofile::apply(&repo.filename, &repo.id, &self.settings)?;
        Ok(Outcome::default())
    }
}
