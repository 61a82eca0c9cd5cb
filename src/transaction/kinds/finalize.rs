//! `FinalizeDeployment`: check the staged deployment against what the caller
//! expects, release its finalization lock, and reboot into it.

use anyhow::{Result, bail};
use std::path::Path;

use super::{Ctx, Outcome};
use crate::deployment::status::{base_of, manifest_digest};
use crate::names;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finalize {
    pub osname: String,
    /// The expected base checksum of the staged deployment (or, for an
    /// image, its manifest digest).
    pub checksum: Option<String>,
    pub allow_missing_checksum: bool,
    pub allow_unlocked: bool,
}

impl super::Kind for Finalize {
    fn reboots(&self) -> bool {
        true
    }

    fn execute(&self, ctx: &Ctx) -> Result<Outcome> {
        let sysroot = &ctx.sysroot;
        if sysroot.deployments().is_empty() {
            bail!("No deployments found");
        }
        let Some(staged) = sysroot.staged_deployment() else {
            bail!("No pending staged deployment found");
        };
        if staged.osname() != self.osname.as_str() {
            bail!("Staged deployment is not for osname '{}'", self.osname);
        }
        let repo = sysroot.repo();
        let found = base_of(&repo, &staged.csum());
        let digest = manifest_digest(&repo, &found);
        match &self.checksum {
            None if !self.allow_missing_checksum => bail!("Missing expected checksum"),
            Some(expected) if *expected != found && Some(expected) != digest.as_ref() => {
                bail!("Expected staged base checksum {expected}, but found {found}")
            }
            _ => {}
        }
        let lock = Path::new(names::STAGED_LOCKED_PATH);
        if !lock.exists() {
            if !self.allow_unlocked {
                bail!("Staged deployment already unlocked");
            }
        } else {
            std::fs::remove_file(lock)?;
        }
        let msg = format!("Finalized deployment; rebooting into {}", staged.csum());
        glib::g_message!("rpm-ostreed", "{msg}");
        ctx.progress.message(msg);
        Ok(Outcome { reboot: true })
    }
}
