//! Writing files safely where others could plant names (`/run`, `/etc`,
//! `/var`, the repository): a fresh temporary name in the same directory,
//! created with `O_EXCL` and `O_NOFOLLOW` (never through a planted file or
//! symlink), renamed into place; and the daemon's runtime directory made
//! with an explicit mode whatever the umask.

use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Replaces `path` with `data` (mode `mode`), atomically.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for _ in 0..16 {
        let tmp = dir.join(format!(".{name}.{}.tmp", glib::uuid_string_random()));
        let mut f = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .mode(mode)
            .open(&tmp)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let done = f
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .and_then(|_| f.write_all(data))
            .and_then(|_| f.sync_all())
            .and_then(|_| std::fs::rename(&tmp, path));
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return done;
    }
    Err(io::Error::other("no free temporary name"))
}

/// Makes `dir` a directory of ours with mode `mode` (`0755`): created with
/// that mode, or, if it exists, a real directory (not a symlink) owned by
/// this process's user, its mode set. Anything else is refused.
pub fn own_dir(dir: &Path, mode: u32) -> Result<(), String> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    match std::fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("Creating {}: {e}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    // The owner of /proc/self is this process's effective user.
    let me = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0);
    if meta.uid() != me {
        return Err(format!(
            "{} is owned by uid {}, not by this daemon (uid {me})",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o7777 != mode {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("fsutil-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn atomic_writes_replace_and_never_follow_a_planted_symlink() {
        let d = scratch("write");
        let f = d.join("state.gv");
        write_atomic(&f, b"one", 0o644).unwrap();
        write_atomic(&f, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o7777, 0o600);
        // A symlink at the target is replaced, its target untouched.
        let victim = d.join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let link = d.join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_atomic(&link, b"new", 0o644).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert!(
            !std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let left: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn own_dir_sets_the_mode_and_refuses_a_symlink() {
        let d = scratch("dir");
        let run = d.join("rpm-ostree");
        own_dir(&run, 0o755).unwrap();
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o777)).unwrap();
        own_dir(&run, 0o755).unwrap();
        assert_eq!(std::fs::metadata(&run).unwrap().mode() & 0o7777, 0o755);
        let link = d.join("link");
        std::os::unix::fs::symlink(&run, &link).unwrap();
        assert!(
            own_dir(&link, 0o755)
                .unwrap_err()
                .contains("not a directory")
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
