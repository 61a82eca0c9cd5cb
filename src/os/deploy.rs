//! OS methods of the deploy family: `Upgrade`, `Deploy`, `Rebase`,
//! `UpdateDeployment` and `AutomaticUpdateTrigger`.

use glib::prelude::*;
use std::rc::Rc;

use crate::authz::Needed;
use crate::bus::MethodCall;
use crate::config::UpdatePolicy;
use crate::error::{BusError, reply_error};
use crate::gate::{Request, create_transaction, start_transaction};
use crate::state::Daemon;

pub(super) mod request;

use request::{BuildEnv, DeployCall};

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
    let pid = crate::bus::bus_u32(&conn, "GetConnectionUnixProcessID", sender).await?;
    crate::client_registry::unit_for_pid(pid)
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
        lock_layering: daemon.config.borrow().lock_layering,
        insecure_loopback_registries: daemon.hooks.insecure_loopback_registries,
    }
}

struct DeployFamily {
    osname: String,
    call: DeployCall,
}

/// `Upgrade`, `Deploy`, `Rebase`, `UpdateDeployment`.
pub(super) fn deploy_family(osname: &str, call: &MethodCall) -> Result<Box<dyn Request>, BusError> {
    let dc = DeployCall::parse(&call.method, &call.params, &call.fds)?;
    Ok(Box::new(DeployFamily {
        osname: osname.to_string(),
        call: dc,
    }))
}

impl Request for DeployFamily {
    fn needed(&self) -> Option<Needed> {
        Some(self.call.needed())
    }

    fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, uid: Option<u32>) {
        let d = daemon.clone();
        glib::MainContext::default().spawn_local(async move {
            let env = build_env(&d, &call.sender, UpdatePolicy::None).await;
            match self.call.build(&self.osname, &env) {
                Ok(kind) => {
                    start_transaction(&d, call, uid, "new-deployment".into(), Box::new(kind))
                }
                Err(e) => reply_error(call.invocation, e),
            }
        });
    }
}

struct AutomaticUpdate {
    osname: String,
    call: DeployCall,
}

pub(super) fn automatic_update_trigger(
    osname: &str,
    call: &MethodCall,
) -> Result<Box<dyn Request>, BusError> {
    let dc = DeployCall::parse(&call.method, &call.params, &[])?;
    Ok(Box::new(AutomaticUpdate {
        osname: osname.to_string(),
        call: dc,
    }))
}

impl Request for AutomaticUpdate {
    fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, uid: Option<u32>) {
        let osname = self.osname;
        let booted = daemon.view.borrow().status.booted_osname.clone();
        if booted.as_deref() != Some(osname.as_str()) {
            let err = BusError::failed(format!(
                "Cannot trigger auto-update for offline OS '{osname}'"
            ));
            return reply_error(call.invocation, err);
        }
        let policy = self
            .call
            .mode
            .unwrap_or(daemon.config.borrow().automatic_update_policy);
        if policy == UpdatePolicy::None {
            return call
                .invocation
                .return_value(Some(&(false, "").to_variant()));
        }
        let d = daemon.clone();
        let dc = self.call;
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
    }
}
