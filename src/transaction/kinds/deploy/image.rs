//! The commit of a container-image origin: the image pulled into the
//! repository by the container helper, or (when the call may not pull) the
//! base the merge deployment has.

use anyhow::{Result, bail};
use glib::prelude::*;

use super::Deploy;
use crate::container;
use crate::deployment::cached_update;
use crate::deployment::imgref::{ImageRef, Transport};
use crate::deployment::status::base_of;
use crate::transaction::kinds::{Ctx, Outcome};

impl Deploy {
    /// Plain HTTP for `imgref`: only a registry on the loopback, only with
    /// the test hook.
    fn insecure(&self, imgref: &str) -> bool {
        self.insecure_loopback_registries
            && ImageRef::parse(imgref).is_ok_and(|r| {
                r.transport == Transport::Registry
                    && ["127.0.0.1:", "localhost:", "[::1]:"]
                        .iter()
                        .any(|h| r.name.starts_with(h))
            })
    }

    pub(super) fn image_commit(
        &self,
        ctx: &Ctx,
        imgref: &str,
        merge: &ostree::Deployment,
    ) -> Result<String> {
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
        let insecure = self.insecure(imgref);
        let imported = container::import(&repo, imgref, insecure, &ctx.progress, &ctx.cancellable)?;
        Ok(imported.merge_commit)
    }

    /// `upgrade --check` of a container origin (`check_only`): the new
    /// manifest against the stored image; a newer one becomes the cached
    /// update, with its `manifest-diff`.
    pub(super) fn check_image(&self, ctx: &Ctx, imgref: &str) -> Result<Outcome> {
        if self.flags.diff_only {
            bail!("Package diffs of container images are not supported yet: {imgref}");
        }
        let repo = ctx.sysroot_path.join("ostree/repo");
        let checked = container::check(&repo, imgref, self.insecure(imgref), &ctx.cancellable)?;
        let booted = ctx.sysroot.booted_deployment().filter(|_| ctx.is_root());
        if checked.current {
            // The command line says "No updates available." itself.
            if booted.is_some() {
                cached_update::store(&ctx.sysroot_path, None)?;
            }
            return Ok(Outcome::default());
        }
        ctx.progress.message(format!(
            "Update available: {}",
            checked
                .version
                .clone()
                .unwrap_or_else(|| checked.manifest_digest.clone())
        ));
        let Some(booted) = booted else {
            return Ok(Outcome::default());
        };
        let mut d = crate::deployment::Dict::new();
        d.insert("osname".into(), self.osname.to_variant());
        d.insert("origin".into(), imgref.to_variant());
        if let Some(v) = &checked.version {
            d.insert("version".into(), v.to_variant());
        }
        d.insert("ref-has-new-commit".into(), true.to_variant());
        let diff = glib::VariantDict::new(None);
        for (k, v) in checked.manifest_diff.iter().flatten() {
            diff.insert(k, *v);
        }
        d.insert("manifest-diff".into(), diff.end());
        d.insert("update-sha256".into(), booted.csum().to_variant());
        cached_update::store(&ctx.sysroot_path, Some(&d))?;
        Ok(Outcome::default())
    }
}
