//! The origin of a deployment (a keyfile libostree keeps next to it) as a
//! plain value, with upstream rpm-ostree's group and key names, which other
//! tools (bootc, upstream itself) read too. Package lists are sets: two
//! origins asking for the same packages in another order are equal. Groups
//! and keys this code does not know are kept and written back.

use std::collections::{BTreeMap, BTreeSet};

const G_ORIGIN: &str = "origin";
const G_PACKAGES: &str = "packages";
const G_OVERRIDES: &str = "overrides";
const G_RPMOSTREE: &str = "rpmostree";

/// What a deployment tracks and how it is customized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The ostree refspec or checksum followed (`refspec`, or `baserefspec`
    /// once packages are layered).
    pub refspec: Option<String>,
    /// A container image reference (phase 3).
    pub container_image_reference: Option<String>,
    /// A commit the deployment is pinned to (`deploy REVISION`).
    pub override_commit: Option<String>,
    /// `(url, description)` of a custom origin.
    pub custom_origin: Option<(String, String)>,
    pub unconfigured_state: Option<String>,
    /// `[packages] requested`: names, provides or paths.
    pub requested_packages: BTreeSet<String>,
    /// `[packages] requested-local`: `<sha256>:<nevra>`.
    pub requested_local_packages: BTreeSet<String>,
    pub requested_local_fileoverride_packages: BTreeSet<String>,
    /// `[overrides] remove`: base package names.
    pub override_remove: BTreeSet<String>,
    /// `[overrides] replace-local`: `<sha256>:<nevra>`.
    pub override_replace_local: BTreeSet<String>,
    /// `[overrides] replace`: `repo=<id>,pkg,...` entries.
    pub override_replace: BTreeSet<String>,
    pub regenerate_initramfs: bool,
    /// dracut arguments, in order.
    pub initramfs_args: Vec<String>,
    /// `/etc` files tracked into the initramfs.
    pub initramfs_etc: BTreeSet<String>,
    pub cliwrap: bool,
    /// group -> key -> raw value, for what is not modelled above.
    unknown: BTreeMap<String, BTreeMap<String, String>>,
}

/// Every key this module models, by group.
const KNOWN: &[(&str, &[&str])] = &[
    (
        G_ORIGIN,
        &[
            "refspec",
            "baserefspec",
            "container-image-reference",
            "override-commit",
            "custom-url",
            "custom-description",
            "unconfigured-state",
        ],
    ),
    (
        G_PACKAGES,
        &[
            "requested",
            "requested-local",
            "requested-local-fileoverride",
        ],
    ),
    (G_OVERRIDES, &["remove", "replace-local", "replace"]),
    (
        G_RPMOSTREE,
        &[
            "regenerate-initramfs",
            "initramfs-args",
            "initramfs-etc",
            "ex-cliwrap",
        ],
    ),
];

fn is_known(group: &str, key: &str) -> bool {
    KNOWN
        .iter()
        .any(|(g, keys)| *g == group && keys.contains(&key))
}

fn string(kf: &glib::KeyFile, group: &str, key: &str) -> Option<String> {
    kf.string(group, key)
        .ok()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
}

fn list(kf: &glib::KeyFile, group: &str, key: &str) -> Vec<String> {
    kf.string_list(group, key)
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default()
}

fn set(kf: &glib::KeyFile, group: &str, key: &str) -> BTreeSet<String> {
    list(kf, group, key).into_iter().collect()
}

fn boolean(kf: &glib::KeyFile, group: &str, key: &str) -> bool {
    kf.boolean(group, key).unwrap_or(false)
}

/// Writes a non-empty string list in keyfile syntax (`a;b;`, with `;`, `\\`
/// and control characters escaped, as GLib reads them back).
fn put_list<'a>(
    kf: &glib::KeyFile,
    group: &str,
    key: &str,
    items: impl IntoIterator<Item = &'a String>,
) {
    let mut value = String::new();
    for item in items {
        for (i, c) in item.chars().enumerate() {
            match c {
                ' ' if i == 0 => value.push_str("\\s"),
                '\\' => value.push_str("\\\\"),
                ';' => value.push_str("\\;"),
                '\n' => value.push_str("\\n"),
                '\t' => value.push_str("\\t"),
                '\r' => value.push_str("\\r"),
                c => value.push(c),
            }
        }
        value.push(';');
    }
    if !value.is_empty() {
        kf.set_value(group, key, &value);
    }
}

/// The NEVRA of a local package entry `<sha256>:<nevra>` (`requested-local`,
/// `replace-local`); an entry without the checksum is its own NEVRA.
pub(crate) fn entry_nevra(entry: &str) -> &str {
    entry.split_once(':').map_or(entry, |(_, n)| n)
}

impl Origin {
    /// Parses origin keyfile text.
    #[cfg(test)]
    pub(crate) fn parse(text: &str) -> anyhow::Result<Self> {
        let kf = glib::KeyFile::new();
        kf.load_from_data(text, glib::KeyFileFlags::NONE)
            .map_err(|e| anyhow::anyhow!("Parsing origin: {}", e.message()))?;
        Ok(Self::from_keyfile(&kf))
    }

    /// Reads a keyfile (a deployment's); what it lacks stays empty.
    pub(crate) fn from_keyfile(kf: &glib::KeyFile) -> Self {
        let mut unknown: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for group in kf.groups().iter() {
            let keys = kf.keys(group).map(|k| k.to_vec()).unwrap_or_default();
            for key in keys {
                if is_known(group, &key) {
                    continue;
                }
                if let Ok(v) = kf.value(group, &key) {
                    unknown
                        .entry(group.to_string())
                        .or_default()
                        .insert(key.to_string(), v.to_string());
                }
            }
        }
        let custom_origin = string(kf, G_ORIGIN, "custom-url").map(|url| {
            let desc = string(kf, G_ORIGIN, "custom-description").unwrap_or_default();
            (url, desc)
        });
        Self {
            refspec: string(kf, G_ORIGIN, "baserefspec")
                .or_else(|| string(kf, G_ORIGIN, "refspec")),
            container_image_reference: string(kf, G_ORIGIN, "container-image-reference"),
            override_commit: string(kf, G_ORIGIN, "override-commit"),
            custom_origin,
            unconfigured_state: string(kf, G_ORIGIN, "unconfigured-state"),
            requested_packages: set(kf, G_PACKAGES, "requested"),
            requested_local_packages: set(kf, G_PACKAGES, "requested-local"),
            requested_local_fileoverride_packages: set(
                kf,
                G_PACKAGES,
                "requested-local-fileoverride",
            ),
            override_remove: set(kf, G_OVERRIDES, "remove"),
            override_replace_local: set(kf, G_OVERRIDES, "replace-local"),
            override_replace: set(kf, G_OVERRIDES, "replace"),
            regenerate_initramfs: boolean(kf, G_RPMOSTREE, "regenerate-initramfs"),
            initramfs_args: list(kf, G_RPMOSTREE, "initramfs-args"),
            initramfs_etc: set(kf, G_RPMOSTREE, "initramfs-etc"),
            cliwrap: boolean(kf, G_RPMOSTREE, "ex-cliwrap"),
            unknown,
        }
    }

    /// The keyfile libostree stores. The refspec is written as `baserefspec`
    /// when packages are layered or overridden (as upstream does), else as
    /// `refspec`.
    pub(crate) fn to_keyfile(&self) -> glib::KeyFile {
        let kf = glib::KeyFile::new();
        if let Some(r) = &self.refspec {
            let key = if self.needs_local_assembly() {
                "baserefspec"
            } else {
                "refspec"
            };
            kf.set_string(G_ORIGIN, key, r);
        }
        let strings = [
            ("container-image-reference", &self.container_image_reference),
            ("override-commit", &self.override_commit),
            ("unconfigured-state", &self.unconfigured_state),
        ];
        for (key, value) in strings {
            if let Some(v) = value {
                kf.set_string(G_ORIGIN, key, v);
            }
        }
        if let Some((url, desc)) = &self.custom_origin {
            kf.set_string(G_ORIGIN, "custom-url", url);
            kf.set_string(G_ORIGIN, "custom-description", desc);
        }
        put_list(&kf, G_PACKAGES, "requested", &self.requested_packages);
        put_list(
            &kf,
            G_PACKAGES,
            "requested-local",
            &self.requested_local_packages,
        );
        put_list(
            &kf,
            G_PACKAGES,
            "requested-local-fileoverride",
            &self.requested_local_fileoverride_packages,
        );
        put_list(&kf, G_OVERRIDES, "remove", &self.override_remove);
        put_list(
            &kf,
            G_OVERRIDES,
            "replace-local",
            &self.override_replace_local,
        );
        put_list(&kf, G_OVERRIDES, "replace", &self.override_replace);
        if self.regenerate_initramfs {
            kf.set_boolean(G_RPMOSTREE, "regenerate-initramfs", true);
            put_list(&kf, G_RPMOSTREE, "initramfs-args", &self.initramfs_args);
        }
        put_list(&kf, G_RPMOSTREE, "initramfs-etc", &self.initramfs_etc);
        if self.cliwrap {
            kf.set_boolean(G_RPMOSTREE, "ex-cliwrap", true);
        }
        for (group, keys) in &self.unknown {
            for (key, value) in keys {
                kf.set_value(group, key, value);
            }
        }
        kf
    }

    #[cfg(test)]
    pub(crate) fn to_data(&self) -> String {
        self.to_keyfile().to_data().to_string()
    }

    /// Regenerated initramfs or tracked files: status then shows both lists.
    pub(crate) fn has_initramfs_config(&self) -> bool {
        self.regenerate_initramfs
            || !self.initramfs_args.is_empty()
            || !self.initramfs_etc.is_empty()
    }

    /// Sets regeneration and its arguments (cleared when it is off).
    pub(crate) fn set_initramfs_regeneration(&mut self, regenerate: bool, args: &[String]) {
        self.regenerate_initramfs = regenerate;
        self.initramfs_args = if regenerate {
            args.to_vec()
        } else {
            Vec::new()
        };
    }

    /// True if the origin asks for anything that needs package layering.
    /// Follows `target` from now on: an ostree refspec, or a container
    /// image reference (then `container-image-reference`, no refspec).
    pub(crate) fn set_refspec(&mut self, target: &str) {
        if super::imgref::looks_like(target) {
            self.container_image_reference = Some(target.to_string());
            self.refspec = None;
        } else {
            self.refspec = Some(target.to_string());
            self.container_image_reference = None;
        }
    }

    /// The `[overrides] replace` entries (`<source>,<name>,...`, the source
    /// `repo=<id>`): (source, names).
    pub(crate) fn replacement_sources(&self) -> Vec<(String, Vec<String>)> {
        self.override_replace
            .iter()
            .map(|e| {
                let mut parts = e.split(',').map(String::from);
                (parts.next().unwrap_or_default(), parts.collect())
            })
            .collect()
    }

    /// True if the deployment is a layered commit made here: packages, or
    /// a regenerated initramfs (upstream's "local assembly").
    pub(crate) fn needs_local_assembly(&self) -> bool {
        self.has_package_requests() || self.regenerate_initramfs
    }

    pub(crate) fn has_package_requests(&self) -> bool {
        !(self.requested_packages.is_empty()
            && self.requested_local_packages.is_empty()
            && self.requested_local_fileoverride_packages.is_empty()
            && self.override_remove.is_empty()
            && self.override_replace_local.is_empty()
            && self.override_replace.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_edits_keep_unknown_keys() {
        let o = Origin::parse(
            "[origin]\nrefspec=testremote:testos/stable/x86_64\nunknown=1\n\n[packages]\nrequested=foo;bar;\n\n[rpmostree]\nregenerate-initramfs=true\ninitramfs-args=--foo;\n\n[libostree-transient]\npinned=true\n",
        )
        .unwrap();
        assert_eq!(
            o.refspec.as_deref(),
            Some("testremote:testos/stable/x86_64")
        );
        assert_eq!(
            o.requested_packages,
            BTreeSet::from(["bar".to_string(), "foo".to_string()])
        );
        assert!(o.regenerate_initramfs);
        assert_eq!(o.initramfs_args, ["--foo"]);
        assert!(o.has_initramfs_config());
        assert!(o.has_package_requests());
        let mut o2 = o.clone();
        o2.refspec = Some("other:ref".into());
        o2.override_commit = Some("abc".into());
        let text = o2.to_data();
        assert!(text.contains("unknown=1"), "{text}");
        assert!(
            text.contains("[libostree-transient]\npinned=true"),
            "{text}"
        );
        // Layered packages: the refspec is the base refspec.
        assert!(text.contains("baserefspec=other:ref"), "{text}");
        let back = Origin::parse(&text).unwrap();
        assert_eq!(back, o2);
        assert_ne!(back, o);
        let odd = vec![" --a;b".to_string(), "c\\d".to_string(), " e\n".to_string()];
        o2.set_initramfs_regeneration(true, &odd);
        assert_eq!(Origin::parse(&o2.to_data()).unwrap().initramfs_args, odd);
        o2.set_initramfs_regeneration(false, &odd);
        assert!(!o2.regenerate_initramfs);
        assert!(o2.initramfs_args.is_empty());
        assert!(!o2.to_data().contains("initramfs"));
    }

    #[test]
    fn package_lists_compare_as_sets() {
        let a = Origin::parse("[origin]\nrefspec=r:b\n[packages]\nrequested=x;y;\n").unwrap();
        let b = Origin::parse("[origin]\nbaserefspec=r:b\n[packages]\nrequested=y;x;\n").unwrap();
        assert_eq!(a, b);
        let none = Origin::parse("[origin]\nrefspec=r:b\n").unwrap();
        assert!(!none.has_package_requests());
        assert!(none.to_data().contains("\nrefspec=r:b"));
    }

    #[test]
    fn baserefspec_is_read_and_custom_origins_round_trip() {
        let o = Origin::parse("[origin]\nbaserefspec=a:b\n").unwrap();
        assert_eq!(o.refspec.as_deref(), Some("a:b"));
        let mut fresh = Origin::parse("[origin]\nrefspec=r:x\n").unwrap();
        assert!(!fresh.has_initramfs_config());
        assert!(fresh.custom_origin.is_none());
        fresh.custom_origin = Some(("pivot://x".into(), "desc".into()));
        let back = Origin::parse(&fresh.to_data()).unwrap();
        assert_eq!(
            back.custom_origin,
            Some(("pivot://x".to_string(), "desc".to_string()))
        );
        assert!(Origin::parse("not [ a keyfile").is_err());
    }

    #[test]
    fn origin_is_send() {
        fn send<T: Send + Clone + Eq>() {}
        send::<Origin>();
    }
}
