//! The rpm database of a layered tree: the base's database (a copy: the
//! checkout's is the repository's object) with the layered packages added
//! by rpm itself (`rpm --justdb` on the header-only packages kept in the
//! pkgcache), left as a single rollback-journal sqlite file.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::assemble::break_hardlink;

const DBPATH: &str = "usr/share/rpm";

/// Adds `headers` (NEVRA, lead + signature + header bytes) to the rpm
/// database of the tree at `root`; `work` is scratch space.
pub(crate) fn add(root: &Path, headers: &[(String, Vec<u8>)], work: &Path) -> Result<()> {
    let db = root.join(DBPATH).join("rpmdb.sqlite");
    if !db.is_file() {
        bail!("The base has no sqlite rpm database ({DBPATH}/rpmdb.sqlite)");
    }
    break_hardlink(&db)?;
    if headers.is_empty() {
        return Ok(());
    }
    let dir = work.join("metarpm");
    let home = work.join("rpm-home");
    std::fs::create_dir_all(&dir)?;
    std::fs::create_dir_all(&home)?;
    let mut files: Vec<PathBuf> = Vec::new();
    for (nevra, bytes) in headers {
        let f = dir.join(format!("{nevra}.rpm"));
        std::fs::write(&f, bytes)?;
        files.push(f);
    }
    let out = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args([
            "--dbpath",
            "/usr/share/rpm",
            "--define",
            "_pkgverify_level none",
        ])
        .args([
            "-i",
            "--justdb",
            "--nodeps",
            "--noscripts",
            "--notriggers",
            "--nosignature",
            "--nodigest",
            "--ignoresize",
        ])
        .args(&files)
        .env("HOME", &home)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .context("Running rpm")?;
    let errors: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.contains("use Alien instead") && !l.contains("you know what you are doing"))
        .collect();
    let finished = settle(&db);
    if !out.status.success() {
        bail!("Writing rpmdb: {}", errors.join("\n"));
    }
    finished
}

/// Removes the packages `names` from the rpm database of the tree at `root`
/// (only the database: their files are removed from the tree by the caller).
pub(crate) fn erase(root: &Path, names: &[String], work: &Path) -> Result<()> {
    let db = root.join(DBPATH).join("rpmdb.sqlite");
    if names.is_empty() {
        return Ok(());
    }
    break_hardlink(&db)?;
    let home = work.join("rpm-home");
    std::fs::create_dir_all(&home)?;
    let out = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["--dbpath", "/usr/share/rpm"])
        .args(["-e", "--justdb", "--nodeps", "--noscripts", "--notriggers"])
        .args(names)
        .env("HOME", &home)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .context("Running rpm")?;
    let finished = settle(&db);
    if !out.status.success() {
        bail!(
            "Removing from the rpmdb: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    finished
}

/// Folds the write-ahead log into the database and leaves it alone in its
/// directory (no `-wal`, `-shm` or lock files in a commit).
fn settle(db: &Path) -> Result<()> {
    let conn = rusqlite::Connection::open(db).context("Opening the new rpm database")?;
    conn.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))
        .context("Checkpointing the new rpm database")?;
    drop(conn);
    let dir = db.parent().unwrap_or(Path::new("."));
    for extra in [
        "rpmdb.sqlite-shm",
        "rpmdb.sqlite-wal",
        "rpmdb.sqlite-journal",
        ".rpm.lock",
    ] {
        let _ = std::fs::remove_file(dir.join(extra));
    }
    Ok(())
}
