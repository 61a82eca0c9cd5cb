//! The `OS` object of each stateroot (also implementing `OSExperimental`): its
//! properties, and the method table that parses each call, authorizes it and
//! hands it to its transaction kind.

use glib::prelude::*;
use std::rc::Rc;

use crate::authz::Access;
use crate::bus::{MethodCall, Props};
use crate::deployment::Dict;
use crate::deployment::cached_update;
use crate::error::BusError;
use crate::gate::{self, Request, Row, later};
use crate::names;
use crate::state::Daemon;

mod bootconfig;
mod deploy;
mod diffs;
mod maintenance;
mod packages;

use bootconfig::{get_deployment_boot_config, initramfs_etc, kernel_args, set_initramfs_state};
use deploy::{automatic_update_trigger, deploy_family};
use diffs::{
    download_deploy_rpm_diff, download_rebase_rpm_diff, download_update_rpm_diff,
    get_cached_deploy_rpm_diff, get_cached_rebase_rpm_diff, get_cached_update_rpm_diff,
    get_deployments_rpm_diff,
};
use maintenance::{cleanup, clear_rollback_target, finalize_deployment, rollback};
use packages::{get_packages, list_repos, modify_yum_repo, refresh_md, search, what_provides};

fn properties(daemon: &Daemon, osname: &str) -> Props {
    let view = daemon.view.borrow();
    let st = view.status.oses.get(osname).cloned().unwrap_or_default();
    let cached = if view.status.booted_osname.as_deref() == Some(osname) {
        let booted_csum = st
            .booted
            .get("checksum")
            .and_then(|v| v.str().map(String::from));
        booted_csum
            .and_then(|c| cached_update::load(osname, &c, &daemon.sysroot_path))
            .unwrap_or_default()
    } else {
        Dict::new()
    };
    let mut p = Props::new();
    p.insert("BootedDeployment".into(), st.booted.to_variant());
    p.insert("DefaultDeployment".into(), st.default.to_variant());
    p.insert("RollbackDeployment".into(), st.rollback.to_variant());
    p.insert(
        "HasCachedUpdateRpmDiff".into(),
        (!cached.is_empty()).to_variant(),
    );
    p.insert("CachedUpdate".into(), cached.to_variant());
    p.insert("Name".into(), osname.to_variant());
    p
}

/// Exports OS objects for new stateroots, unexports vanished ones, and updates
/// the properties of the others.
pub(crate) fn sync_objects(daemon: &Rc<Daemon>) -> anyhow::Result<()> {
    let wanted: Vec<String> = daemon.view.borrow().status.oses.keys().cloned().collect();
    let existing: Vec<(String, String)> = daemon
        .os_objects
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (osname, path) in &existing {
        if !wanted.contains(osname) {
            daemon.store.unexport(path);
            daemon.os_objects.borrow_mut().remove(osname);
        }
    }
    for osname in wanted {
        let Some(path) = names::os_object_path(&osname) else {
            continue;
        };
        if daemon.os_objects.borrow().contains_key(&osname) {
            for (name, value) in properties(daemon, &osname) {
                daemon.store.set(&path, names::IFACE_OS, &name, value);
            }
            continue;
        }
        if daemon.store.is_exported(&path) {
            glib::g_warning!(
                "rpm-ostreed",
                "Stateroot '{osname}' maps to the object path of another stateroot: {path}"
            );
            continue;
        }
        let weak = Rc::downgrade(daemon);
        let os = osname.clone();
        daemon.store.export(
            &path,
            vec![
                (names::IFACE_OS, properties(daemon, &osname)),
                (names::IFACE_OS_EXPERIMENTAL, Props::new()),
            ],
            Rc::new(move |call| {
                if let Some(d) = weak.upgrade() {
                    let rows = if call.interface == names::IFACE_OS_EXPERIMENTAL {
                        EXPERIMENTAL_ROWS
                    } else {
                        OS_ROWS
                    };
                    gate::dispatch(&d, "OS", rows, os.as_str(), call)
                }
            }),
        )?;
        daemon.os_objects.borrow_mut().insert(osname, path);
    }
    Ok(())
}

/// A method whose work belongs to a later phase.
fn not_yet(_: &str, _: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    Ok(later())
}

const fn row(method: &'static str, access: Access, parse: gate::Parse<str>) -> Row<str> {
    Row {
        method,
        access,
        parse,
    }
}

const fn actions(a: &'static [&'static str]) -> Access {
    Access::Actions(a)
}

/// Every action `UpdateDeployment` may need, by its modifiers and options.
const UPDATE_DEPLOYMENT_ACTIONS: &[&str] = &[
    "bootconfig",
    "deploy",
    "install-local-packages",
    "install-uninstall-packages",
    "override",
    "rebase",
    "upgrade",
];

/// The OS method table: name, the actions it needs (§6.3), parser.
#[rustfmt::skip]
const OS_ROWS: &[Row<str>] = &[
    row("AutomaticUpdateTrigger", actions(&["upgrade"]), automatic_update_trigger),
    row("GetDeploymentsRpmDiff", actions(&["repo-refresh"]), get_deployments_rpm_diff),
    row("Deploy", actions(&["deploy"]), deploy_family),
    row("GetCachedDeployRpmDiff", actions(&["repo-refresh"]), get_cached_deploy_rpm_diff),
    row("DownloadDeployRpmDiff", actions(&["repo-refresh"]), download_deploy_rpm_diff),
    row("Upgrade", actions(&["upgrade"]), deploy_family),
    row("GetCachedUpdateRpmDiff", actions(&["repo-refresh"]), get_cached_update_rpm_diff),
    row("DownloadUpdateRpmDiff", actions(&["repo-refresh"]), download_update_rpm_diff),
    row("Rollback", actions(&["rollback"]), rollback),
    row("ClearRollbackTarget", actions(&["rollback"]), clear_rollback_target),
    row("Rebase", actions(&["rebase"]), deploy_family),
    row("GetCachedRebaseRpmDiff", actions(&["repo-refresh"]), get_cached_rebase_rpm_diff),
    row("DownloadRebaseRpmDiff", actions(&["repo-refresh"]), download_rebase_rpm_diff),
    row("PkgChange", actions(&["install-uninstall-packages"]), deploy_family),
    row("SetInitramfsState", actions(&["bootconfig"]), set_initramfs_state),
    row("InitramfsEtc", actions(&["bootconfig"]), initramfs_etc),
    row("KernelArgs", actions(&["bootconfig"]), kernel_args),
    row("GetDeploymentBootConfig", Access::Anyone, get_deployment_boot_config),
    row("Cleanup", actions(&["cleanup"]), cleanup),
    row("RefreshMd", actions(&["repo-refresh"]), refresh_md),
    row("ModifyYumRepo", actions(&["repo-modify"]), modify_yum_repo),
    row("ListRepos", Access::Anyone, list_repos),
    row("UpdateDeployment", actions(UPDATE_DEPLOYMENT_ACTIONS), deploy_family),
    row("FinalizeDeployment", actions(&["finalize-deployment"]), finalize_deployment),
    row("WhatProvides", Access::Anyone, what_provides),
    row("GetPackages", Access::Anyone, get_packages),
    row("Search", Access::Anyone, search),
];

/// OSExperimental: no polkit checks (the bus policy admits root only).
#[rustfmt::skip]
const EXPERIMENTAL_ROWS: &[Row<str>] = &[
    row("Moo", Access::Anyone, moo),
    row("LiveFs", Access::Anyone, not_yet),
    row("DownloadPackages", Access::Anyone, not_yet),
];

const COW: &str = "\n ________\n< moo!!! >\n --------\n        \\   ^__^\n         \\  (oo)\\_______\n            (__)\\       )\\/\\\n";

fn moo(_: &str, call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    let (utf8,): (bool,) = call.params.get().unwrap_or_default();
    let text = if utf8 { "🐄\n" } else { COW };
    Ok(gate::answer(move |_| Ok((text,).to_variant())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every method of the interfaces has exactly one row, and every action
    /// a row names is in the polkit policy.
    #[test]
    fn tables_cover_the_interfaces_and_name_real_actions() {
        for (iface, table) in [
            (names::IFACE_OS, OS_ROWS),
            (names::IFACE_OS_EXPERIMENTAL, EXPERIMENTAL_ROWS),
        ] {
            let rows: Vec<_> = table.iter().map(|r| (r.method, r.access)).collect();
            crate::testutil::check_method_table(iface, &rows);
        }
    }

    #[test]
    fn the_cow_has_seven_lines() {
        assert!(COW.starts_with('\n'));
        assert_eq!(COW.lines().count(), 7);
    }
}
