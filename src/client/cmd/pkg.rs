//! `rpm-ostree install` and `rpm-ostree uninstall`: change the layered
//! packages (`PkgChange`); the new deployment's package diff is printed.

use anyhow::{Result, bail};
use glib::prelude::*;

use super::local_rpms::{LocalRpms, is_local};
use super::{Context, Opts, Outcome, RebootHint, deployment_transaction};
use super::{deployment_transaction_with_fds, update_deployment};
use crate::client::Exit;
use crate::client::cli::{InstallArgs, LayeringOpts, ResetArgs, UninstallArgs};
use crate::client::connection;

/// Repository packages and local ones (files, opened) of `packages`.
fn split_local(
    packages: &[String],
) -> Result<(Vec<String>, LocalRpms, Vec<glib::variant::Handle>)> {
    let (local, names): (Vec<String>, Vec<String>) =
        packages.iter().cloned().partition(|p| is_local(p));
    let mut rpms = LocalRpms::new();
    let handles = rpms.add(&local)?;
    Ok((names, rpms, handles))
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
    let (names, rpms, handles) = split_local(add)?;
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
    let outcome = Outcome {
        reboot: o.reboot,
        dry_run: o.dry_run,
        unchanged_exit_77: o.unchanged_exit_77,
        hint: RebootHint::Plain,
    };
    if rpms.is_empty() {
        let args = (opts, names, remove.to_vec()).to_variant();
        return deployment_transaction(&client, ctx, "PkgChange", &args, outcome);
    }
    // Local packages cannot go through PkgChange: UpdateDeployment, with
    // the files as descriptors.
    let modifiers = Opts::default()
        .set("install-packages", names)
        .set("uninstall-packages", remove.to_vec())
        .set("install-local-packages", handles);
    let args = (modifiers, opts).to_variant();
    let fds = Some(&rpms.fds);
    deployment_transaction_with_fds(&client, ctx, "UpdateDeployment", &args, fds, outcome)
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
    let (names, rpms, handles) = split_local(&a.install)?;
    let mut modifiers = Opts::default();
    if !names.is_empty() {
        modifiers = modifiers.set("install-packages", names);
    }
    if !handles.is_empty() {
        modifiers = modifiers.set("install-local-packages", handles);
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
        (!rpms.is_empty()).then_some(&rpms.fds),
        Outcome {
            reboot: a.reboot,
            dry_run: false,
            unchanged_exit_77: false,
            hint: RebootHint::Plain,
        },
    )
}
