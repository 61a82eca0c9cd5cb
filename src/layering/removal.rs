//! Base packages a layering removes (`override remove`): their names for
//! the rpm database, and what of theirs leaves the tree: their files, and
//! their directories when nothing is left in them (another package may own
//! them too), read from the base's rpm database.

use anyhow::Result;
use std::path::Path;

use super::assemble::Removals;
use super::import::{Placement, place};
use super::pkglist;
use super::rpmmd::BasePackage;

/// What a layering removes of the base.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Removed {
    pub names: Vec<String>,
    /// Paths in the tree of their files.
    files: Vec<String>,
    /// Paths in the tree of their directories, deepest first.
    dirs: Vec<String>,
}

/// True if `path` (in a tree) is a kernel image: what a layering would
/// have to follow with depmod and a new initramfs, which it does not do yet.
pub(crate) fn is_kernel(path: &str) -> bool {
    let p = path.trim_start_matches('/');
    p.starts_with("usr/lib/modules/") && p.ends_with("/vmlinuz")
}

impl Removed {
    /// Refuses removing or replacing the kernel.
    pub(crate) fn check_kernel(&self) -> Result<()> {
        if self.files.iter().any(|f| is_kernel(f)) {
            anyhow::bail!(
                "Removing or replacing the kernel ({}) is not supported yet by this \
                 rpm-ostree daemon",
                self.names.join(", ")
            );
        }
        Ok(())
    }

    pub(crate) fn removals(&self) -> Removals<'_> {
        Removals {
            files: &self.files,
            dirs: &self.dirs,
        }
    }
}

/// What goes with `removed`, read from the sqlite rpm database `rpmdb`
/// (the base's).
pub(crate) fn of(rpmdb: &Path, removed: &[BasePackage]) -> Result<Removed> {
    let names: Vec<String> = removed.iter().map(|r| r.name.clone()).collect();
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    if !names.is_empty() {
        for (path, mode) in pkglist::files_of(rpmdb, &names)? {
            if let Placement::Tree(rel) = place(&path)? {
                if mode & 0o170000 == 0o040000 {
                    dirs.push(rel);
                } else {
                    files.push(rel);
                }
            }
        }
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    Ok(Removed { names, files, dirs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_are_refused() {
        assert!(is_kernel("usr/lib/modules/6.1.0/vmlinuz"));
        assert!(is_kernel("/usr/lib/modules/6.1.0/vmlinuz"));
        assert!(!is_kernel("usr/lib/modules/6.1.0/initramfs.img"));
        let r = Removed {
            names: vec!["kernel-core".into()],
            files: vec!["usr/lib/modules/6.1.0/vmlinuz".into()],
            dirs: vec![],
        };
        assert_eq!(
            r.check_kernel().unwrap_err().to_string(),
            "Removing or replacing the kernel (kernel-core) is not supported yet by this \
             rpm-ostree daemon"
        );
        assert!(Removed::default().check_kernel().is_ok());
    }
}
