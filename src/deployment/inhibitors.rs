//! systemd-logind's shutdown inhibitors, checked before anything that
//! reboots: a lock in `block` mode held by someone stops the reboot (and
//! what leads to it), with upstream's text naming who holds it and why.
//! Without logind on the bus there is nothing to check.

use anyhow::{Result, bail};

const LOGIND: &str = "org.freedesktop.login1";

/// One inhibitor lock: what, who, why, mode, uid, pid.
type Lock = (String, String, String, String, u32, u32);

/// The text for the blocking shutdown locks among `locks`, if any.
fn blocked(locks: &[Lock]) -> Option<String> {
    let lines: Vec<String> = locks
        .iter()
        .filter(|(what, _, _, mode, _, _)| {
            mode == "block" && what.split(':').any(|w| w == "shutdown")
        })
        .map(|(_, who, why, _, _, _)| format!("Held by: {who}\nReason: {why}"))
        .collect();
    (!lines.is_empty()).then(|| {
        format!(
            "Reboot blocked by a systemd inhibitor lock in `block` mode\n{}",
            lines.join("\n")
        )
    })
}

/// Fails if a shutdown inhibitor in `block` mode is held.
pub(crate) fn check_reboot_allowed() -> Result<()> {
    let Ok(bus) = gio::bus_get_sync(gio::BusType::System, gio::Cancellable::NONE) else {
        return Ok(());
    };
    let reply = bus.call_sync(
        Some(LOGIND),
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager",
        "ListInhibitors",
        None,
        Some(glib::VariantTy::new("(a(ssssuu))").expect("valid type")),
        gio::DBusCallFlags::NO_AUTO_START,
        10_000,
        gio::Cancellable::NONE,
    );
    let locks: Vec<Lock> = match reply {
        Ok(v) => v.child_value(0).get().unwrap_or_default(),
        // No logind (containers, test beds): nothing inhibits.
        Err(e) => {
            glib::g_debug!("rpm-ostreed", "Listing inhibitors: {e}");
            return Ok(());
        }
    };
    if let Some(text) = blocked(&locks) {
        bail!(text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(what: &str, mode: &str) -> Lock {
        (
            what.into(),
            "Backup".into(),
            "Copying".into(),
            mode.into(),
            0,
            1,
        )
    }

    #[test]
    fn only_blocking_shutdown_locks_block() {
        assert_eq!(blocked(&[]), None);
        assert_eq!(blocked(&[lock("shutdown", "delay")]), None);
        assert_eq!(blocked(&[lock("sleep:idle", "block")]), None);
        assert_eq!(
            blocked(&[lock("sleep:shutdown", "block")]).unwrap(),
            "Reboot blocked by a systemd inhibitor lock in `block` mode\nHeld by: Backup\nReason: Copying"
        );
    }
}
