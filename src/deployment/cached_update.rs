//! The cached update (`OS.CachedUpdate`): computed by update checks, kept as a
//! serialized `a{sv}` under `/var/cache/rpm-ostree/`, valid only for the booted
//! commit it was computed against.

use glib::Variant;
use std::path::{Path, PathBuf};

use super::Dict;
use crate::names;

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
            let tmp = path.with_extension("gv.tmp");
            let v = glib::prelude::ToVariant::to_variant(dict);
            std::fs::write(&tmp, v.data_as_bytes())
                .and_then(|_| std::fs::rename(&tmp, &path))
                .with_context(|| format!("Writing {}", path.display()))
        }
    }
}
