//! OS methods about booting: `GetDeploymentBootConfig`, `KernelArgs`,
//! `SetInitramfsState`, `InitramfsEtc`.

use glib::prelude::*;
use std::rc::Rc;

use crate::bus::MethodCall;
use crate::deployment::Dict;
use crate::error::BusError;
use crate::gate::{Request, answer, transaction};
use crate::options::{self, OptionSpec, Options};
use crate::state::Daemon;
use crate::transaction::kinds::initramfs::{InitramfsEtc, InitramfsState};
use crate::transaction::kinds::kargs::KernelArgs;
use crate::validate;

/// Options of every boot configuration change.
const BOOT_OPTIONS: &[OptionSpec] = &[
    OptionSpec::new("reboot", "b"),
    OptionSpec::new("lock-finalization", "b"),
    OptionSpec::new("initiating-command-line", "s"),
];

const KARGS_OPTIONS: &[OptionSpec] = &[
    OptionSpec::new("reboot", "b"),
    OptionSpec::new("lock-finalization", "b"),
    OptionSpec::new("initiating-command-line", "s"),
    OptionSpec::new("append-if-missing", "as"),
    OptionSpec::new("delete-if-present", "as"),
    OptionSpec::new("final-kernel-args", "s"),
];

fn title(opts: &Options, default: &str) -> String {
    opts.string("initiating-command-line")
        .unwrap_or_else(|| default.to_string())
}

/// The boot entry of a deployment: an index into `Deployments`, or `""` for the
/// merge deployment (the pending one with `is_pending`).
pub(super) fn get_deployment_boot_config(
    osname: &str,
    call: &MethodCall,
) -> Result<Box<dyn Request>, BusError> {
    let (deployid, is_pending): (String, bool) = call.params.get().unwrap_or_default();
    let osname = osname.to_string();
    Ok(answer(move |daemon: &Rc<Daemon>| {
        boot_config(daemon, &osname, &deployid, is_pending).map(|d| (d,).to_variant())
    }))
}

fn boot_config(
    daemon: &Daemon,
    osname: &str,
    deployid: &str,
    is_pending: bool,
) -> Result<Dict, BusError> {
    let view = daemon.view.borrow();
    let sysroot = &view.sysroot;
    let deployment = if deployid.is_empty() {
        let found = if is_pending {
            sysroot
                .deployments()
                .into_iter()
                .find(|d| d.osname() == osname)
        } else {
            sysroot.merge_deployment(Some(osname))
        };
        found.ok_or_else(|| BusError::failed(format!("No deployments found for os {osname}")))?
    } else {
        let index: usize = deployid.parse().map_err(|_| {
            BusError::rpmostreed_failed(format!(
                "Invalid deployment index {deployid}, must be a number and >= 0"
            ))
        })?;
        let all = sysroot.deployments();
        let len = all.len();
        all.into_iter().nth(index).ok_or_else(|| {
            BusError::rpmostreed_failed(format!(
                "Out of range deployment index {index}, expected < {len}"
            ))
        })?
    };
    let mut d = Dict::new();
    let staged = deployment.is_staged();
    d.insert("staged".into(), staged.to_variant());
    if let Some(bc) = deployment.bootconfig() {
        let keys: &[&str] = if staged {
            &["options"]
        } else {
            &["title", "linux", "initrd", "options", "version"]
        };
        for k in keys {
            if let Some(v) = bc.get(k) {
                d.insert(k.to_string(), v.as_str().to_variant());
            }
        }
    }
    Ok(d)
}

pub(super) fn kernel_args(osname: &str, call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    type Args = (String, Vec<String>, Vec<String>, Vec<String>);
    let p = &call.params;
    let (existing, added, replaced, removed): Args = (
        p.child_value(0).get().unwrap_or_default(),
        p.child_value(1).get().unwrap_or_default(),
        p.child_value(2).get().unwrap_or_default(),
        p.child_value(3).get().unwrap_or_default(),
    );
    let opts = options::parse(&p.child_value(4), KARGS_OPTIONS, &call.method)?;
    let append_if_missing = opts.strv("append-if-missing").unwrap_or_default();
    let delete_if_present = opts.strv("delete-if-present").unwrap_or_default();
    let final_kargs = opts.string("final-kernel-args");
    let invalid = BusError::invalid_args;
    validate::kernel_cmdline(&existing).map_err(invalid)?;
    if let Some(f) = &final_kargs {
        validate::kernel_cmdline(f).map_err(invalid)?;
    }
    for a in added
        .iter()
        .chain(&replaced)
        .chain(&removed)
        .chain(&append_if_missing)
        .chain(&delete_if_present)
    {
        validate::kernel_arg(a).map_err(invalid)?;
    }
    let kind = KernelArgs {
        osname: osname.to_string(),
        existing,
        added,
        replaced,
        removed,
        append_if_missing,
        delete_if_present,
        final_kargs,
        reboot: opts.flag("reboot"),
        lock_finalization: opts.flag("lock-finalization"),
    };
    Ok(transaction(title(&opts, "kargs"), kind))
}

pub(super) fn set_initramfs_state(
    osname: &str,
    call: &MethodCall,
) -> Result<Box<dyn Request>, BusError> {
    let p = &call.params;
    let regenerate: bool = p.child_value(0).get().unwrap_or_default();
    let args: Vec<String> = p.child_value(1).get().unwrap_or_default();
    for a in &args {
        validate::kernel_arg(a).map_err(BusError::invalid_args)?;
    }
    let opts = options::parse(&p.child_value(2), BOOT_OPTIONS, &call.method)?;
    let kind = InitramfsState {
        osname: osname.to_string(),
        regenerate,
        args,
        reboot: opts.flag("reboot"),
        lock_finalization: opts.flag("lock-finalization"),
    };
    Ok(transaction(title(&opts, "initramfs"), kind))
}

pub(super) fn initramfs_etc(osname: &str, call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    let p = &call.params;
    let paths = |i: usize| -> Result<Vec<String>, BusError> {
        let v: Vec<String> = p.child_value(i).get().unwrap_or_default();
        v.iter()
            .map(|x| validate::etc_path(x))
            .collect::<Result<_, _>>()
            .map_err(BusError::failed)
    };
    let (track, untrack) = (paths(0)?, paths(1)?);
    let opts = options::parse(&p.child_value(4), BOOT_OPTIONS, &call.method)?;
    let kind = InitramfsEtc {
        osname: osname.to_string(),
        track,
        untrack,
        untrack_all: p.child_value(2).get().unwrap_or_default(),
        force_sync: p.child_value(3).get().unwrap_or_default(),
        reboot: opts.flag("reboot"),
        lock_finalization: opts.flag("lock-finalization"),
    };
    Ok(transaction(title(&opts, "initramfs-etc"), kind))
}
