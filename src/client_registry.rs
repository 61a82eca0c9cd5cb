//! Registered clients (`RegisterClient`/`UnregisterClient`): who they are, and
//! noticing when they leave the bus. A registered client keeps the daemon alive.

use std::collections::BTreeMap;

use crate::bus::Unwatch;

/// What we know about a bus peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientInfo {
    pub id: Option<String>,
    pub uid: Option<u32>,
    pub pid: Option<u32>,
    pub unit: Option<String>,
}

impl ClientInfo {
    /// `client(id:<id> dbus<unique-name> unit:<unit> uid:<uid>)`, the contract's format
    /// (`dbus` directly followed by the unique name, e.g. `dbus:1.42`).
    pub(crate) fn describe(&self, unique_name: &str) -> String {
        let mut s = String::from("client(");
        if let Some(id) = &self.id {
            s.push_str(&format!("id:{id} "));
        }
        s.push_str(&format!("dbus{unique_name} "));
        if let Some(unit) = &self.unit {
            s.push_str(&format!("unit:{unit} "));
        }
        match self.uid {
            Some(uid) => s.push_str(&format!("uid:{uid})")),
            None => s.push_str("uid:<unknown>)"),
        }
        s
    }

    /// The agent id for logs: the registered id unless it is the CLI's.
    pub(crate) fn agent_id(&self) -> Option<&str> {
        self.id.as_deref().filter(|id| *id != "cli")
    }
}

struct Entry {
    info: ClientInfo,
    watch: Option<Unwatch>,
}

/// The registry of clients, keyed by unique bus name.
#[derive(Default)]
pub(crate) struct ClientRegistry {
    clients: BTreeMap<String, Entry>,
}

impl ClientRegistry {
    pub(crate) fn len(&self) -> usize {
        self.clients.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.clients.contains_key(name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&ClientInfo> {
        self.clients.get(name).map(|e| &e.info)
    }

    pub(crate) fn insert(&mut self, name: &str, info: ClientInfo, watch: Unwatch) {
        let entry = Entry {
            info,
            watch: Some(watch),
        };
        if let Some(w) = self
            .clients
            .insert(name.to_string(), entry)
            .and_then(|old| old.watch)
        {
            w();
        }
    }

    pub(crate) fn update(&mut self, name: &str, f: impl FnOnce(&mut ClientInfo)) {
        if let Some(e) = self.clients.get_mut(name) {
            f(&mut e.info)
        }
    }

    /// Removes a client; returns what was known about it.
    pub(crate) fn remove(&mut self, name: &str) -> Option<ClientInfo> {
        let mut e = self.clients.remove(name)?;
        if let Some(w) = e.watch.take() {
            w();
        }
        Some(e.info)
    }

    /// How a caller is described in logs and `InitiatingClientDescription`.
    pub(crate) fn describe(&self, name: &str) -> String {
        match self.get(name) {
            Some(info) => info.describe(name),
            None => format!("caller {name}"),
        }
    }
}

impl Drop for ClientRegistry {
    fn drop(&mut self) {
        for (_, mut e) in std::mem::take(&mut self.clients) {
            if let Some(w) = e.watch.take() {
                w();
            }
        }
    }
}

/// The systemd unit a process runs in, from its cgroup path: a user unit if it
/// has one (inside `user@UID.service`), else its system unit or scope.
pub(crate) fn unit_for_pid(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let path = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .or_else(|| {
            text.lines()
                .find_map(|l| l.split_once(":name=systemd:").map(|(_, p)| p))
        })?;
    unit_from_cgroup_path(path)
}

pub(crate) fn unit_from_cgroup_path(path: &str) -> Option<String> {
    const SUFFIXES: &[&str] = &[".service", ".scope", ".socket", ".mount", ".timer"];
    let is_unit = |s: &&&str| SUFFIXES.iter().any(|suf| s.ends_with(suf));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(pos) = segments
        .iter()
        .position(|s| s.starts_with("user@") && s.ends_with(".service"))
        && let Some(u) = segments[pos + 1..].iter().rev().find(is_unit)
    {
        return Some(u.to_string());
    }
    segments
        .iter()
        .rev()
        .find(|s| is_unit(s) && !s.starts_with("user@"))
        .map(|s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_format() {
        let info = ClientInfo {
            id: Some("cli".into()),
            uid: Some(0),
            pid: Some(42),
            unit: Some("session-2.scope".into()),
        };
        assert_eq!(
            info.describe(":1.42"),
            "client(id:cli dbus:1.42 unit:session-2.scope uid:0)"
        );
        assert_eq!(info.agent_id(), None);
        let anon = ClientInfo::default();
        assert_eq!(anon.describe(":1.7"), "client(dbus:1.7 uid:<unknown>)");
        let reg = ClientRegistry::default();
        assert_eq!(reg.describe(":1.9"), "caller :1.9");
    }

    #[test]
    fn units_from_cgroups() {
        assert_eq!(
            unit_from_cgroup_path("/system.slice/rpm-ostreed-automatic.service").as_deref(),
            Some("rpm-ostreed-automatic.service")
        );
        assert_eq!(
            unit_from_cgroup_path("/user.slice/user-1000.slice/session-2.scope").as_deref(),
            Some("session-2.scope")
        );
        assert_eq!(
            unit_from_cgroup_path(
                "/user.slice/user-1000.slice/user@1000.service/app.slice/gnome-software.service"
            )
            .as_deref(),
            Some("gnome-software.service")
        );
        assert_eq!(unit_from_cgroup_path("/"), None);
    }
}
