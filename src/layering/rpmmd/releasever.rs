//! `$releasever` of a deployment, found the way libdnf finds it: the
//! version of the package providing `system-release(releasever)` in the
//! tree's rpm database, else `VERSION_ID` of its os-release. Done here, not
//! by libdnf: libdnf would open the tree's rpm database read-write (its
//! `-shm`/`-wal` files, and a checkpoint into a file that is a hardlink to a
//! repository object); this reads it read-only.

use anyhow::{Result, bail};
use std::path::Path;

use crate::layering::pkglist;

const PROVIDE: &str = "system-release(releasever)";

/// Where a tree keeps its rpm database.
const RPMDBS: &[&str] = &[
    "usr/share/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];

const OS_RELEASES: &[&str] = &["etc/os-release", "usr/etc/os-release", "usr/lib/os-release"];

/// The release version of the tree at `root`.
pub(crate) fn of_root(root: &Path) -> Result<String> {
    for db in RPMDBS {
        let path = root.join(db);
        if path.is_file() {
            // A database that cannot be read falls back to os-release.
            if let Ok(Some(v)) = pkglist::provided_version(&path, PROVIDE) {
                return Ok(v);
            }
            break;
        }
    }
    for f in OS_RELEASES {
        if let Ok(text) = std::fs::read_to_string(root.join(f))
            && let Some(v) = version_id(&text)
        {
            return Ok(v);
        }
    }
    bail!(
        "Could not find os-release in etc/, usr/etc, or usr/lib under source root '{}'",
        root.display()
    )
}

/// `VERSION_ID` of an os-release file, shell-unquoted.
fn version_id(text: &str) -> Option<String> {
    let value = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("VERSION_ID="))
        .next_back()?;
    let unquoted = match value.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) => {
            let q = char::from(*q);
            value.strip_prefix(q)?.strip_suffix(q)?.to_string()
        }
        _ => value.to_string(),
    };
    let unescaped = unquoted.replace("\\\"", "\"").replace("\\\\", "\\");
    (!unescaped.is_empty()).then_some(unescaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids() {
        assert_eq!(version_id("NAME=x\nVERSION_ID=39\n").as_deref(), Some("39"));
        assert_eq!(version_id("VERSION_ID=\"12\"\n").as_deref(), Some("12"));
        assert_eq!(version_id("VERSION_ID='9.4'\n").as_deref(), Some("9.4"));
        assert_eq!(version_id("VERSION_ID=\n"), None);
        assert_eq!(version_id("ID=debian\n"), None);
    }

    #[test]
    fn os_release_without_a_database() {
        let dir = std::env::temp_dir().join(format!("relver-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            of_root(&dir)
                .unwrap_err()
                .to_string()
                .starts_with("Could not find os-release")
        );
        std::fs::create_dir_all(dir.join("usr/lib")).unwrap();
        std::fs::write(dir.join("usr/lib/os-release"), "VERSION_ID=\"42\"\n").unwrap();
        assert_eq!(of_root(&dir).unwrap(), "42");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
