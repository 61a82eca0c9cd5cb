//! OS methods that rearrange or finish deployments: `Rollback`,
//! `ClearRollbackTarget`, `Cleanup`, `FinalizeDeployment`.

use crate::bus::MethodCall;
use crate::error::BusError;
use crate::gate::{Request, transaction};
use crate::options::{self, OptionSpec};
use crate::transaction::kinds::cleanup::Cleanup;
use crate::transaction::kinds::finalize::Finalize;
use crate::transaction::kinds::rollback::Rollback;

const FINALIZE_OPTIONS: &[OptionSpec] = &[
    OptionSpec::new("checksum", "s"),
    OptionSpec::new("allow-missing-checksum", "b"),
    OptionSpec::new("allow-unlocked", "b"),
    OptionSpec::new("initiating-command-line", "s"),
];

type Parsed = Result<Box<dyn Request>, BusError>;

pub(super) fn finalize_deployment(osname: &str, call: &MethodCall) -> Parsed {
    let opts = options::parse_single(&call.params, FINALIZE_OPTIONS, &call.method)?;
    let kind = Finalize {
        osname: osname.to_string(),
        checksum: opts.string("checksum"),
        allow_missing_checksum: opts.flag("allow-missing-checksum"),
        allow_unlocked: opts.flag("allow-unlocked"),
    };
    let title = opts
        .string("initiating-command-line")
        .unwrap_or_else(|| "finalize-deployment".into());
    Ok(transaction(title, kind))
}

const REBOOT_ONLY: &[OptionSpec] = &[OptionSpec::new("reboot", "b")];

pub(super) fn rollback(osname: &str, call: &MethodCall) -> Parsed {
    let opts = options::parse_single(&call.params, REBOOT_ONLY, &call.method)?;
    let kind = Rollback {
        osname: osname.to_string(),
        reboot: opts.flag("reboot"),
    };
    Ok(transaction("rollback".into(), kind))
}

pub(super) fn clear_rollback_target(osname: &str, call: &MethodCall) -> Parsed {
    // The reboot option is accepted and, as upstream, ignored.
    options::parse_single(&call.params, REBOOT_ONLY, &call.method)?;
    let kind = Cleanup {
        osname: osname.to_string(),
        rollback: true,
        ..Default::default()
    };
    Ok(transaction("clear-rollback".into(), kind))
}

pub(super) fn cleanup(osname: &str, call: &MethodCall) -> Parsed {
    let (elements,): (Vec<String>,) = call.params.get().unwrap_or_default();
    let kind = Cleanup::from_elements(osname, &elements).map_err(BusError::failed)?;
    Ok(transaction("cleanup".into(), kind))
}
