//! THE authorization choke point for bus method calls: which polkit actions a
//! method needs, and the decision. uid 0 is allowed without asking anybody;
//! everyone else is checked asynchronously, so the main loop keeps serving.

use std::rc::Rc;

use crate::bus::MethodCall;
use crate::error::{BusError, reply_error};
use crate::names;
use crate::state::Daemon;
use crate::sysroot::bus_u32;

/// Who may call a method, as declared in the method tables.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Access {
    /// No authorization (read-only methods).
    Anyone,
    /// Every listed action (short names, under `org.projectatomic.rpmostree1.`).
    Actions(&'static [&'static str]),
    /// Active local sessions, else `client-management` without interaction.
    ClientManagement,
}

/// What one call needs, once its arguments are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Needed {
    Nothing,
    Actions(Vec<&'static str>),
    ClientManagement,
}

impl Access {
    pub(crate) fn actions(self) -> Needed {
        match self {
            Self::Anyone => Needed::Nothing,
            Self::Actions(a) => Needed::Actions(a.to_vec()),
            Self::ClientManagement => Needed::ClientManagement,
        }
    }
}

/// The full polkit action id of a short action name.
pub(crate) fn action_id(short: &str) -> String {
    format!("{}.{short}", names::BUS_NAME)
}

fn denied(call: &MethodCall) -> BusError {
    let what = if call.interface == names::IFACE_SYSROOT {
        "Sysroot"
    } else {
        "OS"
    };
    BusError::access_denied(format!(
        "rpmostreed {what} operation {} not allowed for user",
        call.method
    ))
}

/// Decides whether `call` may proceed; runs `cont` (with the caller's uid, when it
/// had to be looked up) if so, answers the call with the contract's error otherwise.
pub(crate) fn authorize(
    daemon: &Rc<Daemon>,
    call: MethodCall,
    needed: Needed,
    cont: impl FnOnce(&Rc<Daemon>, MethodCall, Option<u32>) + 'static,
) {
    if needed == Needed::Nothing {
        return cont(daemon, call, None);
    }
    let daemon = daemon.clone();
    glib::MainContext::default().spawn_local(async move {
        let conn = daemon.store.connection().clone();
        let Some(uid) = bus_u32(&conn, "GetConnectionUnixUser", &call.sender).await else {
            let prefix = if call.interface == names::IFACE_SYSROOT {
                "Failed to load polkit"
            } else {
                "Failed direct authorization"
            };
            let err =
                BusError::dbus_failed(format!("{prefix}: could not determine the caller's uid"));
            return reply_error(call.invocation, err);
        };
        if uid == 0 {
            return cont(&daemon, call, Some(uid));
        }
        // Non-root callers: polkit comes with the authorization work; until then
        // only root may change the system.
        let err = denied(&call);
        reply_error(call.invocation, err)
    });
}
