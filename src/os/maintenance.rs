//! OS methods that rearrange or finish deployments: `Rollback`,
//! `ClearRollbackTarget`, `Cleanup`, `FinalizeDeployment`.

use std::rc::Rc;

use super::start_transaction;
use crate::authz::{self, Access};
use crate::bus::MethodCall;
use crate::error::{BusError, reply_error};
use crate::options::{self, OptionSpec};
use crate::state::Daemon;
use crate::transaction::kinds::cleanup::Cleanup;
use crate::transaction::kinds::finalize::Finalize;
use crate::transaction::kinds::rollback::Rollback;

const FINALIZE_OPTIONS: &[OptionSpec] = &[
    OptionSpec::new("checksum", "s"),
    OptionSpec::new("allow-missing-checksum", "b"),
    OptionSpec::new("allow-unlocked", "b"),
    OptionSpec::new("initiating-command-line", "s"),
];

pub(super) fn finalize_deployment(
    daemon: &Rc<Daemon>,
    osname: &str,
    call: MethodCall,
    access: Access,
) {
    let opts = match options::parse_single(&call.params, FINALIZE_OPTIONS, &call.method) {
        Ok(o) => o,
        Err(e) => return reply_error(call.invocation, e),
    };
    let kind = Finalize {
        osname: osname.to_string(),
        checksum: opts.string("checksum"),
        allow_missing_checksum: opts.flag("allow-missing-checksum"),
        allow_unlocked: opts.flag("allow-unlocked"),
    };
    let title = opts
        .string("initiating-command-line")
        .unwrap_or_else(|| "finalize-deployment".into());
    authz::authorize(daemon, call, access.actions(), move |d, call, uid| {
        start_transaction(d, call, uid, title, Box::new(kind))
    });
}

const REBOOT_ONLY: &[OptionSpec] = &[OptionSpec::new("reboot", "b")];

pub(super) fn rollback(daemon: &Rc<Daemon>, osname: &str, call: MethodCall, access: Access) {
    let opts = match options::parse_single(&call.params, REBOOT_ONLY, &call.method) {
        Ok(o) => o,
        Err(e) => return reply_error(call.invocation, e),
    };
    let osname = osname.to_string();
    authz::authorize(daemon, call, access.actions(), move |d, call, uid| {
        let kind = Rollback {
            osname,
            reboot: opts.flag("reboot"),
        };
        start_transaction(d, call, uid, "rollback".into(), Box::new(kind))
    });
}

pub(super) fn clear_rollback_target(
    daemon: &Rc<Daemon>,
    osname: &str,
    call: MethodCall,
    access: Access,
) {
    // The reboot option is accepted and, as upstream, ignored.
    if let Err(e) = options::parse_single(&call.params, REBOOT_ONLY, &call.method) {
        return reply_error(call.invocation, e);
    }
    let kind = Cleanup {
        osname: osname.to_string(),
        rollback: true,
        ..Default::default()
    };
    authz::authorize(daemon, call, access.actions(), move |d, call, uid| {
        start_transaction(d, call, uid, "clear-rollback".into(), Box::new(kind))
    });
}

pub(super) fn cleanup(daemon: &Rc<Daemon>, osname: &str, call: MethodCall, access: Access) {
    let (elements,): (Vec<String>,) = call.params.get().unwrap_or_default();
    let kind = match Cleanup::from_elements(osname, &elements) {
        Ok(k) => k,
        Err(msg) => return reply_error(call.invocation, BusError::failed(msg)),
    };
    authz::authorize(daemon, call, access.actions(), move |d, call, uid| {
        start_transaction(d, call, uid, "cleanup".into(), Box::new(kind))
    });
}
