//! The GPG check of downloaded packages of a repository with `gpgcheck=1`:
//! each must be signed by one of the repository's `gpgkey=` keys. rpm's own
//! `rpmkeys` checks, with a scratch keyring holding only those keys (never
//! the host's); libdnf has already fetched the keys into the metadata cache.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn rpmkeys(keyring: &Path, args: &[&str], file: &Path) -> Result<Output> {
    Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(keyring)
        .args(args)
        .arg(file)
        .env("HOME", keyring)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .context("Running rpmkeys")
}

fn text(o: &Output) -> String {
    let mut t = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let e = String::from_utf8_lossy(&o.stderr);
    if !e.trim().is_empty() {
        if !t.is_empty() {
            t.push('\n');
        }
        t.push_str(e.trim());
    }
    t
}

/// Checks `files` (NEVRA, path) of repository `repo` against its `keys`.
pub(super) fn check(
    repo: &str,
    keys: &[String],
    files: &[(String, PathBuf)],
    scratch: &Path,
) -> Result<()> {
    if keys.is_empty() {
        bail!("Repository '{repo}' has gpgcheck=1 but no gpgkey to check packages with");
    }
    let keyring = scratch.join(format!("gpg-{repo}"));
    std::fs::create_dir_all(&keyring)?;
    for key in keys {
        // libdnf hands over its local copies (in the repository's
        // metadata cache) of the `gpgkey=` keys.
        let path = Path::new(key.strip_prefix("file://").unwrap_or(key));
        if !path.is_absolute() {
            bail!("GPG key {key} of repository '{repo}' is not a local file");
        }
        let o = rpmkeys(&keyring, &["--import"], path)?;
        if !o.status.success() {
            bail!("Importing GPG key {key} for repo '{repo}': {}", text(&o));
        }
    }
    for (nevra, file) in files {
        let o = rpmkeys(
            &keyring,
            &["--define", "_pkgverify_level signature", "--checksig"],
            file,
        )?;
        if !o.status.success() {
            bail!(
                "Package {nevra} cannot be verified and repo '{repo}' is GPG enabled: {}",
                text(&o)
            );
        }
    }
    Ok(())
}
