//! OS methods of the deploy family: `Upgrade`, `Deploy`, `Rebase`,
//! `UpdateDeployment` and `AutomaticUpdateTrigger`.

use glib::prelude::*;
use std::rc::Rc;

use super::{create_transaction, start_transaction};
use crate::authz::{self, Access};
use crate::bus::MethodCall;
use crate::config::UpdatePolicy;
use crate::deploy_request::{BuildEnv, DeployCall};
use crate::error::{BusError, reply_error};
use crate::state::Daemon;

/// The systemd unit of a caller: from its registration, else looked up by pid.
async fn caller_unit(daemon: &Rc<Daemon>, sender: &str) -> Option<String> {
    if let Some(unit) = daemon
        .clients
        .borrow()
        .get(sender)
        .and_then(|c| c.unit.clone())
    {
        return Some(unit);
    }
    let conn = daemon.store.connection().clone();
    let pid = crate::sysroot::bus_u32(&conn, "GetConnectionUnixProcessID", sender).await?;
    crate::clients::unit_for_pid(pid)
}

/// The environment a deploy request is built in, for `sender`.
async fn build_env(daemon: &Rc<Daemon>, sender: &str, policy: UpdatePolicy) -> BuildEnv {
    let agent = daemon
        .clients
        .borrow()
        .get(sender)
        .and_then(|c| c.agent_id().map(String::from));
    BuildEnv {
        runtime_dir: daemon.hooks.runtime_dir.clone(),
        stall_timeout: daemon.hooks.pull_stall_timeout,
        policy,
        agent,
        caller_unit: caller_unit(daemon, sender).await,
    }
}

/// `Upgrade`, `Deploy`, `Rebase`, `UpdateDeployment`.
pub(super) fn deploy_family(daemon: &Rc<Daemon>, osname: &str, call: MethodCall, _access: Access) {
    let dc = match DeployCall::parse(&call.method, &call.params) {
        Ok(d) => d,
        Err(e) => return reply_error(call.invocation, e),
    };
    let osname = osname.to_string();
    let needed = dc.needed();
    authz::authorize(daemon, call, needed, move |d, call, uid| {
        let d = d.clone();
        glib::MainContext::default().spawn_local(async move {
            let env = build_env(&d, &call.sender, UpdatePolicy::None).await;
            match dc.build(&osname, &env) {
                Ok(kind) => {
                    start_transaction(&d, call, uid, "new-deployment".into(), Box::new(kind))
                }
                Err(e) => reply_error(call.invocation, e),
            }
        });
    });
}

pub(super) fn automatic_update_trigger(
    daemon: &Rc<Daemon>,
    osname: &str,
    call: MethodCall,
    access: Access,
) {
    let dc = match DeployCall::parse(&call.method, &call.params) {
        Ok(d) => d,
        Err(e) => return reply_error(call.invocation, e),
    };
    let osname = osname.to_string();
    authz::authorize(daemon, call, access.actions(), move |d, call, uid| {
        let booted = d.view.borrow().status.booted_osname.clone();
        if booted.as_deref() != Some(osname.as_str()) {
            let err = BusError::failed(format!(
                "Cannot trigger auto-update for offline OS '{osname}'"
            ));
            return reply_error(call.invocation, err);
        }
        let policy = dc.mode.unwrap_or(d.config.borrow().automatic_update_policy);
        if policy == UpdatePolicy::None {
            return call
                .invocation
                .return_value(Some(&(false, "").to_variant()));
        }
        let d = d.clone();
        glib::MainContext::default().spawn_local(async move {
            let env = build_env(&d, &call.sender, policy).await;
            let result = dc.build(&osname, &env).and_then(|kind| {
                create_transaction(&d, &call, uid, "new-deployment".into(), Box::new(kind))
            });
            match result {
                Ok(address) => call
                    .invocation
                    .return_value(Some(&(true, address).to_variant())),
                Err(e) => reply_error(call.invocation, e),
            }
        });
    });
}
