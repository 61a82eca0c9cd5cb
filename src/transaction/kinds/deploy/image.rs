//! The commit of a container-image origin: the image pulled into the
//! repository by the container helper, or (when the call may not pull) the
//! base the merge deployment has.

use anyhow::{Result, bail};

use super::Deploy;
use crate::container;
use crate::deployment::revision::Revision;
use crate::deployment::status::base_of;
use crate::transaction::kinds::Ctx;

impl Deploy {
    pub(super) fn image_commit(
        &self,
        ctx: &Ctx,
        imgref: &str,
        revision: Option<Revision>,
        merge: &ostree::Deployment,
    ) -> Result<String> {
        if revision.is_some() {
            bail!(
                "Specifying commit overrides for container-image-reference type refspecs is not \
                 supported"
            );
        }
        if self.metadata_only() {
            bail!(
                "Checking container images for updates is not supported yet by this rpm-ostree \
                 daemon: {imgref}"
            );
        }
        if !self.may_pull() {
            return Ok(base_of(&ctx.sysroot.repo(), &merge.csum()));
        }
        let repo = ctx.sysroot_path.join("ostree/repo");
        let imported = container::import(&repo, imgref, false, &ctx.progress, &ctx.cancellable)?;
        Ok(imported.merge_commit)
    }
}
