//! State files the daemon writes and the CLI reads: the update driver record
//! (`register-driver`: which agent drives updates), a serialized `a{sv}`
//! (`driver-name`, `driver-sd-unit`) in the runtime directory.

use anyhow::{Context, Result, bail};
use glib::prelude::*;
use std::path::{Path, PathBuf};

pub(crate) const FILE_NAME: &str = "update-driver.gv";

/// The registered driver: (name, systemd unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Driver {
    pub name: String,
    pub unit: String,
}

pub(crate) fn path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join(FILE_NAME)
}

/// Records `name` (driving from `unit`) as the update driver.
pub(crate) fn register(runtime_dir: &Path, name: &str, unit: Option<&str>) -> Result<()> {
    if name.is_empty() {
        bail!("update driver name not provided");
    }
    let Some(unit) = unit.filter(|u| !u.is_empty()) else {
        bail!("could not find caller systemd unit");
    };
    let dict = glib::VariantDict::new(None);
    dict.insert_value("driver-name", &name.to_variant());
    dict.insert_value("driver-sd-unit", &unit.to_variant());
    std::fs::create_dir_all(runtime_dir)?;
    let p = path(runtime_dir);
    crate::fsutil::write_atomic(&p, &dict.end().data_as_bytes(), 0o644)
        .with_context(|| format!("Writing {}", p.display()))
}

/// Reads the registered driver, if any.
pub(crate) fn read(runtime_dir: &Path) -> Option<Driver> {
    let bytes = std::fs::read(path(runtime_dir)).ok()?;
    let v = glib::Variant::from_bytes_with_type(
        &glib::Bytes::from_owned(bytes),
        glib::VariantTy::VARDICT,
    );
    if !v.is_normal_form() {
        return None;
    }
    let d = glib::VariantDict::new(Some(&v));
    Some(Driver {
        name: d.lookup::<String>("driver-name").ok()??,
        unit: d.lookup::<String>("driver-sd-unit").ok()??,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_errors() {
        let dir = std::env::temp_dir().join(format!("driver-test-{}", std::process::id()));
        assert_eq!(
            register(&dir, "", Some("x.service"))
                .unwrap_err()
                .to_string(),
            "update driver name not provided"
        );
        assert_eq!(
            register(&dir, "Zincati", None).unwrap_err().to_string(),
            "could not find caller systemd unit"
        );
        register(&dir, "Zincati", Some("zincati.service")).unwrap();
        assert_eq!(
            read(&dir).unwrap(),
            Driver {
                name: "Zincati".into(),
                unit: "zincati.service".into()
            }
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
