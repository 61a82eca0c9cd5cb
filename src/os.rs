//! The `OS` object of each stateroot (also implementing `OSExperimental`): its
//! properties, and the method table that parses each call, authorizes it and
//! hands it to its transaction kind.

use glib::prelude::*;
use std::rc::Rc;

use crate::authz::{self, Access};
use crate::bus::{MethodCall, Props};
use crate::deployment::Dict;
use crate::deployment::cached_update;
use crate::error::{BusError, reply_error};
use crate::names;
use crate::state::Daemon;
use crate::transaction::kinds::Kind;
use crate::transaction::{Manager, TxnRequest};

mod bootconfig;
mod deploy;
mod maintenance;

use bootconfig::{get_deployment_boot_config, initramfs_etc, kernel_args, set_initramfs_state};
use deploy::{automatic_update_trigger, deploy_family};
use maintenance::{cleanup, clear_rollback_target, finalize_deployment, rollback};

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
                    dispatch(&d, &os, call)
                }
            }),
        )?;
        daemon.os_objects.borrow_mut().insert(osname, path);
    }
    Ok(())
}

type Handler = fn(&Rc<Daemon>, &str, MethodCall, Access);

/// The OS method table: name, the actions it needs (§6.3), handler.
#[rustfmt::skip]
const OS_METHODS: &[(&str, Access, Handler)] = &[
    ("AutomaticUpdateTrigger", Access::Actions(&["upgrade"]), automatic_update_trigger),
    ("GetDeploymentsRpmDiff", Access::Actions(&["repo-refresh"]), later),
    ("Deploy", Access::Actions(&["deploy"]), deploy_family),
    ("GetCachedDeployRpmDiff", Access::Actions(&["repo-refresh"]), later),
    ("DownloadDeployRpmDiff", Access::Actions(&["repo-refresh"]), later),
    ("Upgrade", Access::Actions(&["upgrade"]), deploy_family),
    ("GetCachedUpdateRpmDiff", Access::Actions(&["repo-refresh"]), later),
    ("DownloadUpdateRpmDiff", Access::Actions(&["repo-refresh"]), later),
    ("Rollback", Access::Actions(&["rollback"]), rollback),
    ("ClearRollbackTarget", Access::Actions(&["rollback"]), clear_rollback_target),
    ("Rebase", Access::Actions(&["rebase"]), deploy_family),
    ("GetCachedRebaseRpmDiff", Access::Actions(&["repo-refresh"]), later),
    ("DownloadRebaseRpmDiff", Access::Actions(&["repo-refresh"]), later),
    ("PkgChange", Access::Actions(&["install-uninstall-packages"]), later),
    ("SetInitramfsState", Access::Actions(&["bootconfig"]), set_initramfs_state),
    ("InitramfsEtc", Access::Actions(&["bootconfig"]), initramfs_etc),
    ("KernelArgs", Access::Actions(&["bootconfig"]), kernel_args),
    ("GetDeploymentBootConfig", Access::Anyone, get_deployment_boot_config),
    ("Cleanup", Access::Actions(&["cleanup"]), cleanup),
    ("RefreshMd", Access::Actions(&["repo-refresh"]), later),
    ("ModifyYumRepo", Access::Actions(&["repo-modify"]), later),
    ("ListRepos", Access::Anyone, later),
    // Computed from the call's modifiers and options (deploy_request.rs).
    ("UpdateDeployment", Access::Actions(&["upgrade"]), deploy_family),
    ("FinalizeDeployment", Access::Actions(&["finalize-deployment"]), finalize_deployment),
    ("WhatProvides", Access::Anyone, later),
    ("GetPackages", Access::Anyone, later),
    ("Search", Access::Anyone, later),
];

/// OSExperimental: no polkit checks (the bus policy admits root only).
#[rustfmt::skip]
const EXPERIMENTAL_METHODS: &[(&str, Access, Handler)] = &[
    ("Moo", Access::Anyone, moo),
    ("LiveFs", Access::Anyone, later),
    ("DownloadPackages", Access::Anyone, later),
];

fn dispatch(daemon: &Rc<Daemon>, osname: &str, call: MethodCall) {
    let table = if call.interface == names::IFACE_OS_EXPERIMENTAL {
        EXPERIMENTAL_METHODS
    } else {
        OS_METHODS
    };
    match table.iter().find(|(m, _, _)| *m == call.method) {
        Some(&(_, access, handler)) => handler(daemon, osname, call, access),
        None => {
            let msg = format!(
                "rpmostreed OS operation {} not allowed for user",
                call.method
            );
            reply_error(call.invocation, BusError::access_denied(msg))
        }
    }
}

/// A method whose work belongs to a later phase: authorized like the real
/// thing, then a clear error.
fn later(daemon: &Rc<Daemon>, _osname: &str, call: MethodCall, access: Access) {
    authz::authorize(daemon, call, access.actions(), |_, call, _| {
        let err = BusError::not_implemented(&call.method);
        reply_error(call.invocation, err)
    });
}

/// Creates (or joins) the transaction for `call`; returns its address.
pub(crate) fn create_transaction(
    daemon: &Rc<Daemon>,
    call: &MethodCall,
    uid: Option<u32>,
    title: String,
    kind: Box<dyn Kind>,
) -> Result<String, BusError> {
    let req = TxnRequest {
        method: call.method.clone(),
        params: call.params.clone(),
        sender: call.sender.clone(),
        uid,
        os_path: call.path.clone(),
        title,
        kind,
    };
    Manager::create(daemon, req)
}

/// Replies with the address of a new (or joined) transaction for `call`.
pub(crate) fn start_transaction(
    daemon: &Rc<Daemon>,
    call: MethodCall,
    uid: Option<u32>,
    title: String,
    kind: Box<dyn Kind>,
) {
    match create_transaction(daemon, &call, uid, title, kind) {
        Ok(address) => call.invocation.return_value(Some(&(address,).to_variant())),
        Err(e) => reply_error(call.invocation, e),
    }
}

const COW: &str = "\n ________\n< moo!!! >\n --------\n        \\   ^__^\n         \\  (oo)\\_______\n            (__)\\       )\\/\\\n";

fn moo(_daemon: &Rc<Daemon>, _osname: &str, call: MethodCall, _access: Access) {
    let (utf8,): (bool,) = call.params.get().unwrap_or_default();
    let text = if utf8 { "🐄\n" } else { COW };
    call.invocation.return_value(Some(&(text,).to_variant()));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every method of the interfaces has exactly one table entry.
    #[test]
    fn tables_cover_the_interfaces() {
        for (iface, table) in [
            (names::IFACE_OS, OS_METHODS),
            (names::IFACE_OS_EXPERIMENTAL, EXPERIMENTAL_METHODS),
        ] {
            let methods = crate::testutil::xml_methods(iface);
            assert_eq!(methods.len(), table.len(), "{iface}");
            for m in &methods {
                assert_eq!(
                    table.iter().filter(|(n, _, _)| n == m).count(),
                    1,
                    "{iface}.{m}"
                );
            }
        }
    }

    #[test]
    fn the_cow_has_seven_lines() {
        assert!(COW.starts_with('\n'));
        assert_eq!(COW.lines().count(), 7);
    }
}
