//! Names that are part of the wire contract: the bus name, object paths, interface
//! names, the osname -> object path mangling, and the default runtime paths.

pub const BUS_NAME: &str = "org.projectatomic.rpmostree1";
pub const BASE_PATH: &str = "/org/projectatomic/rpmostree1";
pub const SYSROOT_PATH: &str = "/org/projectatomic/rpmostree1/Sysroot";

pub const IFACE_SYSROOT: &str = "org.projectatomic.rpmostree1.Sysroot";
pub const IFACE_OS: &str = "org.projectatomic.rpmostree1.OS";
pub const IFACE_OS_EXPERIMENTAL: &str = "org.projectatomic.rpmostree1.OSExperimental";
pub const IFACE_TRANSACTION: &str = "org.projectatomic.rpmostree1.Transaction";
pub const IFACE_OBJECT_MANAGER: &str = "org.freedesktop.DBus.ObjectManager";
pub const IFACE_PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// The introspection data of our four interfaces, as installed to
/// `share/dbus-1/interfaces/`. Parsed once at startup.
pub const INTROSPECTION_XML: &str = include_str!("../data/org.projectatomic.rpmostree1.xml");

/// Default directory for transaction sockets and other runtime state.
pub const DEFAULT_RUNTIME_DIR: &str = "/run/rpm-ostree";
/// Default daemon configuration file.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/rpm-ostreed.conf";
/// Where the cached update (`OS.CachedUpdate`) is kept, relative to `/`.
pub const CACHE_DIR: &str = "/var/cache/rpm-ostree";
/// libostree's finalization lock for a staged deployment.
pub const STAGED_LOCKED_PATH: &str = "/run/ostree/staged-deployment-locked";

/// Maps an osname (stateroot) to its object path segment: `[A-Za-z0-9_]` kept,
/// `/` and `-` become `_`, any other byte becomes `_XX` (uppercase hex).
/// Returns `None` for an empty name.
pub fn mangle_segment(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' => out.push(b as char),
            b'/' | b'-' => out.push('_'),
            other => out.push_str(&format!("_{other:02X}")),
        }
    }
    Some(out)
}

/// The object path of the OS object for `osname`.
pub fn os_object_path(osname: &str) -> Option<String> {
    mangle_segment(osname).map(|seg| format!("{BASE_PATH}/{seg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangling_matches_contract_examples() {
        assert_eq!(
            os_object_path("fedora").unwrap(),
            "/org/projectatomic/rpmostree1/fedora"
        );
        assert_eq!(
            os_object_path("fedora-coreos").unwrap(),
            "/org/projectatomic/rpmostree1/fedora_coreos"
        );
        assert_eq!(
            os_object_path("first!").unwrap(),
            "/org/projectatomic/rpmostree1/first_21"
        );
        assert_eq!(mangle_segment("a.b/c").unwrap(), "a_2Eb_c");
        assert_eq!(mangle_segment("Sysroot").unwrap(), "Sysroot");
        assert_eq!(mangle_segment("é").unwrap(), "_C3_A9");
        assert!(mangle_segment("").is_none());
        assert_eq!(
            os_object_path("Sysroot").unwrap(),
            SYSROOT_PATH,
            "the Sysroot path is built by the same rule"
        );
    }

    #[test]
    fn mangled_paths_are_valid_object_paths() {
        for name in ["testos", "a-b", "x y", "ü", "1.2", "_"] {
            let p = os_object_path(name).unwrap();
            assert!(glib::Variant::is_object_path(&p), "{p}");
        }
    }
}
