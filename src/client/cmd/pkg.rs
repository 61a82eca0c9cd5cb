//! `rpm-ostree install` and `rpm-ostree uninstall`: change the layered
//! packages (`PkgChange`); the new deployment's package diff is printed.

use anyhow::{Result, bail};
use glib::prelude::*;

use super::{Context, Opts, Outcome, RebootHint, deployment_transaction, update_deployment};
use crate::client::Exit;
use crate::client::cli::{InstallArgs, LayeringOpts, ResetArgs, UninstallArgs};
use crate::client::connection;

/// True if `p` names a local package (a file or URL), not a repository one.
fn is_local(p: &str) -> bool {
    p.ends_with(".rpm") || p.starts_with("file://") || p.contains("://")
}

fn change(
    o: &LayeringOpts,
    ctx: &Context,
    add: &[String],
    remove: &[String],
    all: bool,
    cache_only: bool,
) -> Result<Exit> {
    if o.apply_live {
        bail!("--apply-live is not supported yet by this rpm-ostree");
    }
    if let Some(p) = add.iter().find(|p| is_local(p)) {
        bail!("Installing local packages is not supported yet by this rpm-ostree: {p}");
    }
    let client = connection::connect(&o.daemon, Some(&o.os))?;
    let opts = Opts::default()
        .set("reboot", o.reboot)
        .set("cache-only", cache_only)
        .set("download-only", o.download_only)
        .set("no-pull-base", true)
        .set("dry-run", o.dry_run)
        .set("allow-inactive", o.allow_inactive)
        .set("idempotent-layering", o.idempotent)
        .set("lock-finalization", o.lock_finalization)
        .flag("no-layering", all)
        .set("initiating-command-line", ctx.cmdline.as_str());
    let args = (opts, add.to_vec(), remove.to_vec()).to_variant();
    deployment_transaction(
        &client,
        ctx,
        "PkgChange",
        &args,
        Outcome {
            reboot: o.reboot,
            dry_run: o.dry_run,
            unchanged_exit_77: o.unchanged_exit_77,
            hint: RebootHint::Plain,
        },
    )
}

pub(crate) fn install(a: InstallArgs, ctx: &Context) -> Result<Exit> {
    if a.packages.is_empty() {
        bail!("At least one PACKAGE must be specified");
    }
    if a.force_replacefiles {
        bail!("--force-replacefiles is not supported yet by this rpm-ostree");
    }
    let c = &a.common;
    change(c, ctx, &a.packages, &a.uninstall, false, c.cache_only)
}

pub(crate) fn uninstall(a: UninstallArgs, ctx: &Context) -> Result<Exit> {
    if a.packages.is_empty() && !a.all {
        bail!("At least one PACKAGE must be specified");
    }
    let c = &a.common;
    // Removing needs no new metadata, unless something is installed too.
    let cache_only = c.cache_only || a.install.is_empty();
    change(c, ctx, &a.install, &a.packages, a.all, cache_only)
}

/// `rpm-ostree reset`: back to the pure base, keeping what the flags do not
/// name (none named: layered packages, overrides and initramfs state all go);
/// `--install`/`--uninstall` then change the layer of the result.
pub(crate) fn reset(a: ResetArgs, ctx: &Context) -> Result<Exit> {
    let all = !(a.overlays || a.overrides || a.initramfs);
    if let Some(p) = a.install.iter().find(|p| is_local(p)) {
        bail!("Installing local packages is not supported yet by this rpm-ostree: {p}");
    }
    let mut modifiers = Opts::default();
    if !a.install.is_empty() {
        modifiers = modifiers.set("install-packages", a.install.clone());
    }
    if !a.uninstall.is_empty() {
        modifiers = modifiers.set("uninstall-packages", a.uninstall.clone());
    }
    let opts = Opts::default()
        .set("reboot", a.reboot)
        .set("no-pull-base", true)
        .set("cache-only", a.install.is_empty())
        .flag("no-layering", all || a.overlays)
        .flag("no-overrides", all || a.overrides)
        .flag("no-initramfs", all || a.initramfs)
        .set("lock-finalization", a.lock_finalization);
    update_deployment(
        &a.daemon,
        &a.os,
        ctx,
        modifiers,
        opts,
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: false,
            hint: RebootHint::Plain,
        },
    )
}
