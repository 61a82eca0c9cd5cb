//! The cached update (`OS.CachedUpdate`): computed by update checks, kept as a
//! serialized `a{sv}` under `/var/cache/rpm-ostree/`, valid only for the booted
//! commit it was computed against.

use glib::Variant;
use glib::prelude::*;
use std::path::{Path, PathBuf};

use super::Dict;
use super::refspec::Refspec;
use super::status::commit_info;
use crate::names;

/// What clients are told about a commit an update or diff leads to (the
/// `details` of `GetCached*RpmDiff`, the start of a cached update): `osname`,
/// `checksum`, `version` and `timestamp` when the commit has them, `origin`,
/// and for a remote's ref `gpg-enabled` and `signatures` (checked by
/// `verify(remote, checksum)`) or `remote-error`.
pub(crate) fn commit_details(
    repo: &ostree::Repo,
    osname: &str,
    refspec: &str,
    csum: &str,
    verify: &mut dyn FnMut(&str, &str) -> Option<Variant>,
) -> Dict {
    let mut d = Dict::new();
    if let Refspec::Ref {
        remote: Some(remote),
        ..
    } = Refspec::parse(refspec)
    {
        match repo.remote_get_gpg_verify(&remote) {
            Ok(gpg) => {
                d.insert("gpg-enabled".into(), gpg.to_variant());
                if gpg && let Some(s) = verify(&remote, csum) {
                    d.insert("signatures".into(), s);
                }
            }
            Err(e) => {
                d.insert("remote-error".into(), e.message().to_variant());
            }
        }
    }
    d.insert("osname".into(), osname.to_variant());
    d.insert("checksum".into(), csum.to_variant());
    if let Some(info) = commit_info(repo, csum) {
        if let Some(v) = info.version {
            d.insert("version".into(), v.to_variant());
        }
        if info.timestamp > 0 {
            d.insert("timestamp".into(), info.timestamp.to_variant());
        }
    }
    d.insert("origin".into(), refspec.to_variant());
    d
}

/// The cache file; only a sysroot at `/` has one.
pub(crate) fn path(sysroot_path: &Path) -> Option<PathBuf> {
    (sysroot_path == Path::new("/")).then(|| Path::new(names::CACHE_DIR).join("cached-update.gv"))
}

/// Loads the cached update of `osname` if it was computed against `booted_csum`.
/// A stale cache (another booted commit) is deleted.
pub(crate) fn load(osname: &str, booted_csum: &str, sysroot_path: &Path) -> Option<Dict> {
    let path = path(sysroot_path)?;
    let bytes = std::fs::read(&path).ok()?;
    let v =
        Variant::from_bytes_with_type(&glib::Bytes::from_owned(bytes), glib::VariantTy::VARDICT);
    if !v.is_normal_form() {
        return None;
    }
    let dict: Dict = v.get()?;
    let str_of = |k: &str| dict.get(k).and_then(|v| v.str().map(String::from));
    if str_of("update-sha256").as_deref() != Some(booted_csum) {
        let _ = std::fs::remove_file(&path);
        return None;
    }
    (str_of("osname").as_deref() == Some(osname)).then_some(dict)
}

/// Writes (or, with `None`, removes) the cached update.
pub(crate) fn store(sysroot_path: &Path, update: Option<&Dict>) -> anyhow::Result<()> {
    use anyhow::Context;
    let Some(path) = path(sysroot_path) else {
        return Ok(());
    };
    match update {
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("Removing {}", path.display()))
            }
            _ => Ok(()),
        },
        Some(dict) => {
            let dir = path.parent().expect("cache file has a parent");
            std::fs::create_dir_all(dir).with_context(|| format!("Creating {}", dir.display()))?;
            let v = dict.to_variant();
            crate::fsutil::write_atomic(&path, &v.data_as_bytes(), 0o644)
                .with_context(|| format!("Writing {}", path.display()))
        }
    }
}
