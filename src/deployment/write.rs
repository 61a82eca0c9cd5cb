//! Writing a new deployment of a commit with an origin: its kernel arguments,
//! its initramfs overlays (regenerated image, tracked `/etc` files), staged on a
//! booted system (finalized at shutdown, optionally locked), written directly on
//! an offline sysroot.

use anyhow::{Context, Result};
use std::path::PathBuf;

use super::origin::Origin;
use super::{Ctx, initramfs};
use crate::names;

/// What the new deployment is made of.
pub(crate) struct NewDeployment<'a> {
    pub osname: &'a str,
    pub commit: &'a str,
    pub origin: &'a Origin,
    pub merge: &'a ostree::Deployment,
    /// Replace the kernel arguments (default: the merge deployment's).
    pub kargs: Option<Vec<String>>,
    pub lock_finalization: bool,
}

/// Where tracked `/etc` files are read: the live `/etc` of a booted system, the
/// merge deployment's `/etc` offline.
fn etc_root(ctx: &Ctx, merge: &ostree::Deployment) -> PathBuf {
    if ctx.stages() {
        PathBuf::from("/")
    } else {
        ctx.sysroot_path
            .join(ctx.sysroot.deployment_dirpath(merge).as_str())
    }
}

/// Writes the deployment; returns it.
pub(crate) fn write(ctx: &Ctx, nd: &NewDeployment<'_>) -> Result<ostree::Deployment> {
    let sysroot = &ctx.sysroot;
    // A regenerated initramfs is in the (layered) commit already.
    let mut overlays = Vec::new();
    let etc: Vec<String> = nd.origin.initramfs_etc.iter().cloned().collect();
    if !etc.is_empty() {
        overlays.push(initramfs::etc_overlay(ctx, &etc_root(ctx, nd.merge), &etc)?);
    }
    // Always explicit: a staged deployment then carries its arguments
    // (status and `kargs` show them before finalization).
    let merge_kargs = merge_kargs(nd.merge);
    let kargs: Vec<&str> = match &nd.kargs {
        Some(k) => k.iter().map(String::as_str).collect(),
        None => merge_kargs.split_whitespace().collect(),
    };
    let overlay_refs: Vec<&str> = overlays.iter().map(String::as_str).collect();
    let opts = ostree::SysrootDeployTreeOpts {
        override_kernel_argv: Some(kargs.as_slice()),
        overlay_initrds: (!overlay_refs.is_empty()).then_some(overlay_refs.as_slice()),
        ..Default::default()
    };
    let kf = nd.origin.to_keyfile();
    ctx.check_cancelled()?;
    let new = if ctx.stages() {
        ctx.progress.task_begin("Staging deployment");
        set_finalization_lock(nd.lock_finalization)?;
        sysroot.stage_tree_with_options(
            Some(nd.osname),
            nd.commit,
            Some(&kf),
            Some(nd.merge),
            &opts,
            Some(&ctx.cancellable),
        )?
    } else {
        ctx.progress.task_begin("Writing deployment");
        let new = sysroot.deploy_tree_with_options(
            Some(nd.osname),
            nd.commit,
            Some(&kf),
            Some(nd.merge),
            Some(&opts),
            Some(&ctx.cancellable),
        )?;
        sysroot.simple_write_deployment(
            Some(nd.osname),
            &new,
            Some(nd.merge),
            ostree::SysrootSimpleWriteDeploymentFlags::NO_CLEAN,
            Some(&ctx.cancellable),
        )?;
        initramfs::forget_staged(&overlays);
        new
    };
    ctx.progress.task_end("done");
    Ok(new)
}

/// Writes a new list of deployments (boot entries included) without
/// libostree's cleanup afterwards: that is [`super::cleanup`]'s, in its
/// helper.
pub(crate) fn write_deployments(ctx: &Ctx, deployments: &[ostree::Deployment]) -> Result<()> {
    ctx.check_cancelled()?;
    let opts = ostree::SysrootWriteDeploymentsOpts {
        do_postclean: false,
    };
    ctx.sysroot
        .write_deployments_with_options(deployments, &opts, Some(&ctx.cancellable))
        .context("Writing deployments")
}

/// The merge deployment's kernel arguments.
fn merge_kargs(merge: &ostree::Deployment) -> String {
    merge
        .bootconfig()
        .and_then(|bc| bc.get("options"))
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// Creates or removes libostree's finalization lock for the staged deployment.
fn set_finalization_lock(locked: bool) -> Result<()> {
    let path = std::path::Path::new(names::STAGED_LOCKED_PATH);
    if locked {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::fsutil::write_atomic(path, b"", 0o644)
            .with_context(|| format!("Writing {}", path.display()))
    } else {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("Removing {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// The "origin merge" deployment of `osname` and its origin: the starting point
/// of every new deployment. It is the pending deployment if there is one (so a
/// new change keeps an earlier pending one), else the booted one; offline, the
/// first deployment of the stateroot.
pub(crate) fn merge_and_origin(ctx: &Ctx, osname: &str) -> Result<(ostree::Deployment, Origin)> {
    merge_and_origin_of(&ctx.sysroot, osname)
}

/// [`merge_and_origin`] of a loaded sysroot.
pub(crate) fn merge_and_origin_of(
    sysroot: &ostree::Sysroot,
    osname: &str,
) -> Result<(ostree::Deployment, Origin)> {
    let merge = sysroot
        .deployments()
        .into_iter()
        .find(|d| d.osname() == osname)
        .ok_or_else(|| anyhow::anyhow!("No deployments found for os {osname}"))?;
    let origin = merge
        .origin()
        .map(|kf| Origin::from_keyfile(&kf))
        .ok_or_else(|| anyhow::anyhow!("Deployment {} has no origin", merge.csum()))?;
    Ok((merge, origin))
}
