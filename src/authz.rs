//! THE authorization choke point: which polkit actions a call needs, and the
//! decision. uid 0 is allowed without asking anybody (root keeps working
//! without polkit); everyone else is checked through polkit asynchronously, so
//! the main loop keeps serving other clients while polkit thinks or prompts.

use gio::prelude::*;
use std::cell::RefCell;

use crate::bus::bus_u32;
use crate::error::BusError;
use crate::ffi::polkit::{Authority, Decision, Subject};
use crate::names;

/// Who may call a method, as declared in the method tables.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Access {
    /// No authorization (read-only methods).
    Anyone,
    /// Every listed action (short names, under `org.projectatomic.rpmostree1.`),
    /// or for methods whose actions depend on their arguments, every action
    /// the call may need.
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
    pub(crate) fn needed(self) -> Needed {
        match self {
            Self::Anyone => Needed::Nothing,
            Self::Actions(a) => Needed::Actions(a.to_vec()),
            Self::ClientManagement => Needed::ClientManagement,
        }
    }

    /// Every polkit action this access may check.
    pub(crate) fn actions(self) -> Vec<&'static str> {
        match self {
            Self::Anyone => Vec::new(),
            Self::Actions(a) => a.to_vec(),
            Self::ClientManagement => vec!["client-management"],
        }
    }
}

/// A method call to authorize: on which object kind (`Sysroot` or `OS`, as
/// the error texts name it), which method, from which bus name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller<'a> {
    pub object: &'static str,
    pub method: &'a str,
    pub sender: &'a str,
}

/// An error's message without GDBus's `GDBus.Error:<name>: ` prefix.
fn plain(mut e: glib::Error) -> String {
    gio::DBusError::strip_remote_error(&mut e);
    e.message().to_string()
}

/// The full polkit action id of a short action name.
pub(crate) fn action_id(short: &str) -> String {
    format!("{}.{short}", names::BUS_NAME)
}

/// The contract's refusal of `method` on an `object` kind.
pub(crate) fn denied(object: &str, method: &str) -> BusError {
    BusError::access_denied(format!(
        "rpmostreed {object} operation {method} not allowed for user"
    ))
}

thread_local! {
    static AUTHORITY: RefCell<Option<Authority>> = const { RefCell::new(None) };
}

/// The polkit authority, obtained once.
async fn authority() -> Result<Authority, glib::Error> {
    if let Some(a) = AUTHORITY.with(|a| a.borrow().clone()) {
        return Ok(a);
    }
    let (tx, rx) = async_channel::bounded(1);
    Authority::get(move |r| {
        let _ = tx.try_send(r);
    });
    let a = rx
        .recv()
        .await
        .map_err(|_| glib::Error::new(gio::IOErrorEnum::Failed, "polkit authority lost"))??;
    AUTHORITY.with(|slot| *slot.borrow_mut() = Some(a.clone()));
    Ok(a)
}

/// Asks polkit about one action.
pub(crate) async fn check(
    subject: &Subject,
    action: &str,
    interactive: bool,
) -> Result<Decision, glib::Error> {
    let authority = authority().await?;
    let (tx, rx) = async_channel::bounded(1);
    authority.check(subject, &action_id(action), interactive, move |r| {
        let _ = tx.try_send(r);
    });
    rx.recv()
        .await
        .map_err(|_| glib::Error::new(gio::IOErrorEnum::Failed, "polkit check lost"))?
}

/// True if logind says `uid` has an active session (no logind: not active).
async fn user_is_active(conn: &gio::DBusConnection, uid: u32) -> bool {
    let call = |path: String, iface: &'static str, method: &'static str, args: glib::Variant| {
        conn.call_future(
            Some("org.freedesktop.login1"),
            &path,
            iface,
            method,
            Some(&args),
            None,
            gio::DBusCallFlags::NO_AUTO_START,
            5000,
        )
    };
    let Ok(user) = call(
        "/org/freedesktop/login1".into(),
        "org.freedesktop.login1.Manager",
        "GetUser",
        (uid,).to_variant(),
    )
    .await
    else {
        return false;
    };
    let Some((path,)) = user.get::<(glib::variant::ObjectPath,)>() else {
        return false;
    };
    let Ok(state) = call(
        path.to_string(),
        "org.freedesktop.DBus.Properties",
        "Get",
        ("org.freedesktop.login1.User", "State").to_variant(),
    )
    .await
    else {
        return false;
    };
    state
        .child_value(0)
        .as_variant()
        .and_then(|v| v.str().map(|s| s == "active"))
        .unwrap_or(false)
}

/// Decides whether `caller` may proceed: `Ok` with the caller's uid (when it
/// had to be looked up), or the contract's error.
pub(crate) async fn authorize(
    conn: &gio::DBusConnection,
    caller: Caller<'_>,
    needed: Needed,
) -> Result<Option<u32>, BusError> {
    if needed == Needed::Nothing {
        return Ok(None);
    }
    let Some(uid) = bus_u32(conn, "GetConnectionUnixUser", caller.sender).await else {
        let prefix = if caller.object == "Sysroot" {
            "Failed to load polkit"
        } else {
            "Failed direct authorization"
        };
        return Err(BusError::dbus_failed(format!(
            "{prefix}: could not determine the uid of {}",
            caller.sender
        )));
    };
    if uid == 0 {
        return Ok(Some(uid));
    }
    let (actions, interactive) = match needed {
        Needed::Nothing => return Ok(None),
        Needed::ClientManagement => {
            if user_is_active(conn, uid).await {
                glib::g_message!(
                    "rpm-ostreed",
                    "Allowing active client {} (uid {uid})",
                    caller.sender
                );
                return Ok(Some(uid));
            }
            (vec!["client-management"], false)
        }
        Needed::Actions(a) => (a, true),
    };
    let subject = Subject::system_bus_name(caller.sender)
        .ok_or_else(|| denied(caller.object, caller.method))?;
    for action in actions {
        match check(&subject, action, interactive).await {
            Ok(d) if d.authorized => continue,
            Ok(_) => return Err(denied(caller.object, caller.method)),
            Err(e) => {
                return Err(BusError::dbus_failed(format!(
                    "Authorization error: {}",
                    plain(e)
                )));
            }
        }
    }
    Ok(Some(uid))
}

/// What a transaction peer asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerAction {
    Start,
    Cancel,
}

/// Decides whether the peer on `conn` may `what` a transaction that `initiator`
/// (a uid) created: root and the initiator may; for `Cancel` also whoever polkit
/// grants `cancel`. Everybody admitted may watch.
pub(crate) async fn peer_may(
    conn: &gio::DBusConnection,
    start_time: Option<u64>,
    initiator: Option<u32>,
    what: PeerAction,
) -> Result<bool, BusError> {
    let creds = conn.peer_credentials();
    let uid = creds.as_ref().and_then(|c| c.unix_user().ok());
    let Some(uid) = uid else { return Ok(false) };
    if uid == 0 || Some(uid) == initiator {
        return Ok(true);
    }
    if what == PeerAction::Start {
        return Ok(false);
    }
    let pid = creds.as_ref().and_then(|c| c.unix_pid().ok()).unwrap_or(0);
    // The process that connected, not one that got its pid since.
    let Some(start_time) = start_time.filter(|t| crate::procstat::start_time(pid) == Some(*t))
    else {
        return Ok(false);
    };
    let Some(subject) = Subject::unix_process(pid, start_time, uid) else {
        return Ok(false);
    };
    match check(&subject, "cancel", true).await {
        Ok(d) => Ok(d.authorized),
        Err(e) => Err(BusError::dbus_failed(format!(
            "Authorization error: {}",
            plain(e)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids() {
        assert_eq!(action_id("deploy"), "org.projectatomic.rpmostree1.deploy");
    }
}
