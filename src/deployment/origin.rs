//! The origin file of a deployment (a keyfile written next to it by libostree),
//! read and written with upstream rpm-ostree's group and key names, which other
//! tools (bootc) read too.
//!
//! Unknown groups and keys are preserved: we edit the keyfile in place.

use anyhow::{Result, anyhow};

const G_ORIGIN: &str = "origin";
const G_PACKAGES: &str = "packages";
const G_OVERRIDES: &str = "overrides";
const G_RPMOSTREE: &str = "rpmostree";

/// A deployment's origin: what it tracks and how it is customized.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    kf: glib::KeyFile,
}

impl Origin {
    pub(crate) fn from_keyfile(kf: &glib::KeyFile) -> Self {
        // Copy: libostree's keyfile belongs to the deployment object.
        Self::parse(&kf.to_data()).unwrap_or_else(|_| Self {
            kf: glib::KeyFile::new(),
        })
    }

    pub(crate) fn parse(text: &str) -> Result<Self> {
        let kf = glib::KeyFile::new();
        kf.load_from_data(text, glib::KeyFileFlags::KEEP_COMMENTS)
            .map_err(|e| anyhow!("Parsing origin: {}", e.message()))?;
        Ok(Self { kf })
    }

    pub(crate) fn to_data(&self) -> String {
        self.kf.to_data().to_string()
    }

    pub(crate) fn keyfile(&self) -> &glib::KeyFile {
        &self.kf
    }

    fn string(&self, group: &str, key: &str) -> Option<String> {
        self.kf
            .string(group, key)
            .ok()
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty())
    }

    fn list(&self, group: &str, key: &str) -> Vec<String> {
        self.kf
            .string_list(group, key)
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default()
    }

    /// Writes a string list in keyfile syntax (`a;b;`, with `;` and `\\` escaped).
    fn set_list(&self, group: &str, key: &str, items: &[String]) {
        let mut value = String::new();
        for item in items {
            for c in item.chars() {
                match c {
                    '\\' => value.push_str("\\\\"),
                    ';' => value.push_str("\\;"),
                    '\n' => value.push_str("\\n"),
                    '\t' => value.push_str("\\t"),
                    c => value.push(c),
                }
            }
            value.push(';');
        }
        self.kf.set_value(group, key, &value);
    }

    fn boolean(&self, group: &str, key: &str) -> bool {
        self.kf.boolean(group, key).unwrap_or(false)
    }

    /// The key holding the refspec: `baserefspec` once packages are layered
    /// (rpm-ostree's spelling), `refspec` otherwise (libostree's).
    fn refspec_key(&self) -> &'static str {
        if self.kf.has_key(G_ORIGIN, "baserefspec").unwrap_or(false) {
            "baserefspec"
        } else {
            "refspec"
        }
    }

    /// The ostree refspec or checksum this deployment follows.
    pub(crate) fn refspec(&self) -> Option<String> {
        self.string(G_ORIGIN, self.refspec_key())
    }

    pub(crate) fn set_refspec(&self, refspec: &str) {
        self.kf.set_string(G_ORIGIN, self.refspec_key(), refspec);
    }

    pub(crate) fn container_image_reference(&self) -> Option<String> {
        self.string(G_ORIGIN, "container-image-reference")
    }

    /// A commit this deployment is pinned to (from `deploy REVISION`).
    pub(crate) fn override_commit(&self) -> Option<String> {
        self.string(G_ORIGIN, "override-commit")
    }

    pub(crate) fn set_override_commit(&self, commit: Option<&str>) {
        match commit {
            Some(c) => self.kf.set_string(G_ORIGIN, "override-commit", c),
            None => {
                let _ = self.kf.remove_key(G_ORIGIN, "override-commit");
            }
        }
    }

    /// `(url, description)` of a custom origin.
    pub(crate) fn custom_origin(&self) -> Option<(String, String)> {
        let url = self.string(G_ORIGIN, "custom-url")?;
        let desc = self
            .string(G_ORIGIN, "custom-description")
            .unwrap_or_default();
        Some((url, desc))
    }

    pub(crate) fn set_custom_origin(&self, custom: Option<(&str, &str)>) {
        match custom {
            Some((url, desc)) => {
                self.kf.set_string(G_ORIGIN, "custom-url", url);
                self.kf.set_string(G_ORIGIN, "custom-description", desc);
            }
            None => {
                let _ = self.kf.remove_key(G_ORIGIN, "custom-url");
                let _ = self.kf.remove_key(G_ORIGIN, "custom-description");
            }
        }
    }

    pub(crate) fn requested_packages(&self) -> Vec<String> {
        self.list(G_PACKAGES, "requested")
    }
    pub(crate) fn requested_local_packages(&self) -> Vec<String> {
        self.list(G_PACKAGES, "requested-local")
    }
    pub(crate) fn requested_local_fileoverride_packages(&self) -> Vec<String> {
        self.list(G_PACKAGES, "requested-local-fileoverride")
    }
    pub(crate) fn requested_base_removals(&self) -> Vec<String> {
        self.list(G_OVERRIDES, "remove")
    }
    pub(crate) fn requested_base_local_replacements(&self) -> Vec<String> {
        self.list(G_OVERRIDES, "replace-local")
    }

    pub(crate) fn regenerate_initramfs(&self) -> bool {
        self.boolean(G_RPMOSTREE, "regenerate-initramfs")
    }
    pub(crate) fn initramfs_args(&self) -> Vec<String> {
        self.list(G_RPMOSTREE, "initramfs-args")
    }
    pub(crate) fn initramfs_etc(&self) -> Vec<String> {
        self.list(G_RPMOSTREE, "initramfs-etc")
    }
    /// Whether the origin carries any initramfs configuration at all.
    pub(crate) fn has_initramfs_config(&self) -> bool {
        ["regenerate-initramfs", "initramfs-args", "initramfs-etc"]
            .iter()
            .any(|k| self.kf.has_key(G_RPMOSTREE, k).unwrap_or(false))
    }

    pub(crate) fn set_initramfs_regeneration(&self, regenerate: bool, args: &[String]) {
        if regenerate {
            self.kf
                .set_boolean(G_RPMOSTREE, "regenerate-initramfs", true);
            if args.is_empty() {
                let _ = self.kf.remove_key(G_RPMOSTREE, "initramfs-args");
            } else {
                self.set_list(G_RPMOSTREE, "initramfs-args", args);
            }
        } else {
            let _ = self.kf.remove_key(G_RPMOSTREE, "regenerate-initramfs");
            let _ = self.kf.remove_key(G_RPMOSTREE, "initramfs-args");
        }
    }

    pub(crate) fn set_initramfs_etc(&self, files: &[String]) {
        if files.is_empty() {
            let _ = self.kf.remove_key(G_RPMOSTREE, "initramfs-etc");
        } else {
            self.set_list(G_RPMOSTREE, "initramfs-etc", files);
        }
    }

    pub(crate) fn cliwrap(&self) -> bool {
        self.boolean(G_RPMOSTREE, "ex-cliwrap")
    }

    /// True if the origin asks for anything that needs package layering.
    pub(crate) fn has_package_requests(&self) -> bool {
        !(self.requested_packages().is_empty()
            && self.requested_local_packages().is_empty()
            && self.requested_local_fileoverride_packages().is_empty()
            && self.requested_base_removals().is_empty()
            && self.requested_base_local_replacements().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_edits_keep_unknown_keys() {
        let o = Origin::parse(
            "[origin]\nrefspec=testremote:testos/stable/x86_64\nunknown=1\n\n[packages]\nrequested=foo;bar;\n\n[rpmostree]\nregenerate-initramfs=true\ninitramfs-args=--foo;\n",
        )
        .unwrap();
        assert_eq!(o.refspec().unwrap(), "testremote:testos/stable/x86_64");
        assert_eq!(o.requested_packages(), ["foo", "bar"]);
        assert!(o.regenerate_initramfs());
        assert_eq!(o.initramfs_args(), ["--foo"]);
        assert!(o.has_initramfs_config());
        assert!(o.has_package_requests());
        o.set_refspec("other:ref");
        o.set_override_commit(Some("abc"));
        let o2 = Origin::parse(&o.to_data()).unwrap();
        assert_eq!(o2.refspec().unwrap(), "other:ref");
        assert_eq!(o2.override_commit().unwrap(), "abc");
        assert!(o2.to_data().contains("unknown=1"));
        o2.set_override_commit(None);
        assert!(o2.override_commit().is_none());
        let odd = vec!["--a;b".to_string(), "c\\d".to_string(), " e".to_string()];
        o2.set_initramfs_regeneration(true, &odd);
        assert_eq!(Origin::parse(&o2.to_data()).unwrap().initramfs_args(), odd);
        o2.set_initramfs_regeneration(false, &[]);
        assert!(!o2.regenerate_initramfs());
        assert!(o2.initramfs_args().is_empty());
    }

    #[test]
    fn baserefspec_is_preferred() {
        let o = Origin::parse("[origin]\nbaserefspec=a:b\n").unwrap();
        assert_eq!(o.refspec().unwrap(), "a:b");
        o.set_refspec("c:d");
        assert!(o.to_data().contains("baserefspec=c:d"));
        let fresh = Origin::parse("[origin]\nrefspec=r:x\n").unwrap();
        assert_eq!(fresh.refspec().unwrap(), "r:x");
        assert!(!fresh.has_initramfs_config());
        assert!(fresh.custom_origin().is_none());
        fresh.set_custom_origin(Some(("pivot://x", "desc")));
        assert_eq!(
            fresh.custom_origin().unwrap(),
            ("pivot://x".to_string(), "desc".to_string())
        );
    }
}
