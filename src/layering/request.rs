//! Package requests of a call (`install-packages`, `uninstall-packages`,
//! `no-layering`, `override-remove-packages`, `override-reset-packages`,
//! `no-overrides`) applied to an origin, with upstream's refusals.

use anyhow::{Result, bail};
use std::collections::BTreeSet;

use crate::deployment::origin::Origin;

/// What a call asks of the layered packages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PackageChanges {
    pub install: Vec<String>,
    pub uninstall: Vec<String>,
    /// Drop every request first (`no-layering`, `uninstall --all`).
    pub no_layering: bool,
    /// An install of what is requested already, or an uninstall of what is
    /// not, is no error (`idempotent-layering`).
    pub idempotent: bool,
    /// A request the base already provides is accepted (`allow-inactive`).
    pub allow_inactive: bool,
    /// Base packages to remove (`override-remove-packages`), by name.
    pub override_remove: Vec<String>,
    /// Overrides to drop, by package name (`override-reset-packages`).
    pub override_reset: Vec<String>,
    /// Drop every override first (`no-overrides`).
    pub no_overrides: bool,
    /// Local packages to layer, imported already: `<sha256>:<nevra>`.
    pub install_local: Vec<String>,
    /// Local packages replacing base ones, imported already.
    pub replace_local: Vec<String>,
    /// Base packages to replace from repositories: (repository id, names).
    pub replace_remote: Vec<(String, Vec<String>)>,
}

impl PackageChanges {
    /// Applies the changes to `origin`; returns the packages newly requested.
    pub(crate) fn apply(&self, origin: &mut Origin) -> Result<BTreeSet<String>> {
        if self.no_layering {
            origin.requested_packages.clear();
            origin.requested_local_packages.clear();
            origin.requested_local_fileoverride_packages.clear();
        }
        for p in &self.uninstall {
            if origin.requested_packages.remove(p) {
                continue;
            }
            // A local package is uninstalled by its name or NEVRA.
            let local = origin
                .requested_local_packages
                .iter()
                .find(|l| local_matches(l, p))
                .cloned();
            if let Some(l) = local {
                origin.requested_local_packages.remove(&l);
            } else if !self.idempotent && !self.no_layering {
                bail!("Package/capability '{p}' is not currently requested");
            }
        }
        if self.no_overrides {
            origin.override_remove.clear();
            origin.override_replace_local.clear();
            origin.override_replace.clear();
        }
        for p in &self.override_reset {
            let replacement = origin
                .override_replace_local
                .iter()
                .find(|l| local_matches(l, p))
                .cloned();
            let removed = origin.override_remove.remove(p);
            let replaced = replacement.is_some_and(|l| origin.override_replace_local.remove(&l));
            let from_repo = drop_remote(origin, p);
            if !removed && !replaced && !from_repo {
                bail!("No overrides for package '{p}'");
            }
        }
        for p in &self.override_remove {
            if has_replacement(origin, p) || !origin.override_remove.insert(p.clone()) {
                bail!("Override already exists for package '{p}'");
            }
        }
        for l in &self.replace_local {
            let name = super::local::entry_name(l).unwrap_or_default();
            if origin.override_remove.contains(&name) || has_replacement(origin, &name) {
                bail!("Override already exists for package '{name}'");
            }
            origin.override_replace_local.insert(l.clone());
        }
        for (repo, names) in &self.replace_remote {
            let mut entries = remote_replacements(origin)?;
            for name in names {
                if origin.override_remove.contains(name) || has_replacement(origin, name) {
                    bail!("Override already exists for package '{name}'");
                }
                match entries.iter_mut().find(|(r, _)| r == repo) {
                    Some((_, list)) => list.push(name.clone()),
                    None => entries.push((repo.clone(), vec![name.clone()])),
                }
            }
            origin.override_replace = remote_entries(&entries);
        }
        for l in &self.install_local {
            if origin.requested_local_packages.contains(l) {
                if !self.idempotent {
                    let nevra = super::local::entry_nevra(l);
                    bail!("Package/capability '{nevra}' is already requested");
                }
                continue;
            }
            origin.requested_local_packages.insert(l.clone());
        }
        let mut added = BTreeSet::new();
        for p in &self.install {
            if origin.requested_packages.contains(p) {
                if !self.idempotent {
                    bail!("Package/capability '{p}' is already requested");
                }
                continue;
            }
            origin.requested_packages.insert(p.clone());
            added.insert(p.clone());
        }
        Ok(added)
    }
}

/// The remote replacements of an origin (`[overrides] replace`,
/// `repo=<id>,<name>,...`): (repository id, names).
pub(crate) fn remote_replacements(origin: &Origin) -> Result<Vec<(String, Vec<String>)>> {
    origin
        .replacement_sources()
        .into_iter()
        .map(|(from, names)| match from.strip_prefix("repo=") {
            Some(repo) => Ok((repo.to_string(), names)),
            None => bail!("Unknown repo replacement source: {from}"),
        })
        .collect()
}

/// The replacements of a `treefile` modifier (what `override replace
/// --experimental --from repo=<id>` sends): `{"override-replace": [{"from":
/// {"repo": <id>}, "packages": [<name>...]}]}`, the one key supported.
pub(crate) fn treefile_replacements(json: &str) -> Result<Vec<(String, Vec<String>)>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    enum From {
        Repo(String),
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Replace {
        from: From,
        packages: Vec<String>,
    }
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| anyhow::anyhow!("Parsing treefile: {e}"))?;
    let Some(obj) = v.as_object() else {
        bail!("Parsing treefile: not a JSON object");
    };
    if let Some(k) = obj.keys().find(|k| *k != "override-replace") {
        bail!("Treefile key '{k}' is not supported yet by this rpm-ostree daemon");
    }
    let list: Vec<Replace> = match obj.get("override-replace") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| anyhow::anyhow!("Parsing treefile override-replace: {e}"))?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for r in list {
        let From::Repo(repo) = r.from;
        if repo.is_empty() || repo.contains(',') || r.packages.iter().any(|p| p.contains(',')) {
            bail!("Invalid repo replacement: repo={repo}");
        }
        out.push((repo, r.packages));
    }
    Ok(out)
}

/// The `[overrides] replace` entries of remote replacements.
fn remote_entries(sources: &[(String, Vec<String>)]) -> BTreeSet<String> {
    sources
        .iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(repo, names)| format!("repo={repo},{}", names.join(",")))
        .collect()
}

/// Drops the remote replacement of `name`; true if there was one.
fn drop_remote(origin: &mut Origin, name: &str) -> bool {
    let Ok(mut sources) = remote_replacements(origin) else {
        return false;
    };
    let mut found = false;
    for (_, names) in sources.iter_mut() {
        let before = names.len();
        names.retain(|n| n != name);
        found |= names.len() != before;
    }
    if found {
        origin.override_replace = remote_entries(&sources);
    }
    found
}

/// True if `origin` replaces the base package `name`, with a local package
/// or from a repository.
fn has_replacement(origin: &Origin, name: &str) -> bool {
    origin
        .override_replace_local
        .iter()
        .any(|l| super::local::entry_name(l).as_deref() == Some(name))
        || remote_replacements(origin)
            .is_ok_and(|s| s.iter().any(|(_, names)| names.iter().any(|n| n == name)))
}

/// True if the local request `entry` (`<sha256>:<nevra>`) is the package
/// `p` (its NEVRA, or its name).
fn local_matches(entry: &str, p: &str) -> bool {
    super::local::entry_nevra(entry) == p || super::local::entry_name(entry).as_deref() == Some(p)
}

/// The refusal of requests the base provides already.
pub(crate) fn inactive_error(request: &str, providers: &[String]) -> String {
    format!(
        "\"{request}\" is already provided by: {}. Use --allow-inactive to explicitly require it.",
        providers.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(install: &[&str], uninstall: &[&str]) -> PackageChanges {
        PackageChanges {
            install: install.iter().map(|s| s.to_string()).collect(),
            uninstall: uninstall.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn install_and_uninstall_edit_the_requests() {
        let mut o = Origin::default();
        let added = changes(&["a", "b"], &[]).apply(&mut o).unwrap();
        assert_eq!(added.len(), 2);
        assert_eq!(
            changes(&["a"], &[]).apply(&mut o).unwrap_err().to_string(),
            "Package/capability 'a' is already requested"
        );
        changes(&[], &["a"]).apply(&mut o).unwrap();
        assert_eq!(
            changes(&[], &["a"]).apply(&mut o).unwrap_err().to_string(),
            "Package/capability 'a' is not currently requested"
        );
        let mut idem = changes(&["b"], &["zz"]);
        idem.idempotent = true;
        assert!(idem.apply(&mut o).unwrap().is_empty());
        assert_eq!(o.requested_packages.len(), 1);
        let all = PackageChanges {
            no_layering: true,
            ..Default::default()
        };
        all.apply(&mut o).unwrap();
        assert!(o.requested_packages.is_empty());
    }

    #[test]
    fn removals_and_their_reset() {
        let mut o = Origin::default();
        let remove = PackageChanges {
            override_remove: vec!["tp-base-b".into()],
            ..Default::default()
        };
        remove.apply(&mut o).unwrap();
        assert_eq!(
            remove.apply(&mut o).unwrap_err().to_string(),
            "Override already exists for package 'tp-base-b'"
        );
        let reset = PackageChanges {
            override_reset: vec!["tp-base-b".into()],
            ..Default::default()
        };
        reset.apply(&mut o).unwrap();
        assert!(o.override_remove.is_empty());
        assert_eq!(
            reset.apply(&mut o).unwrap_err().to_string(),
            "No overrides for package 'tp-base-b'"
        );
        remove.apply(&mut o).unwrap();
        let none = PackageChanges {
            no_overrides: true,
            ..Default::default()
        };
        none.apply(&mut o).unwrap();
        assert!(o.override_remove.is_empty());
    }

    #[test]
    fn local_requests_are_uninstalled_by_name() {
        let mut o = Origin::default();
        o.requested_local_packages
            .insert("0123abcd:tp-tool-1.0-1.noarch".into());
        changes(&[], &["tp-tool"]).apply(&mut o).unwrap();
        assert!(o.requested_local_packages.is_empty());
    }

    #[test]
    fn local_replacements_and_their_reset() {
        let mut o = Origin::default();
        let replace = PackageChanges {
            replace_local: vec!["ab12:tp-base-b-2.0-1.noarch".into()],
            ..Default::default()
        };
        replace.apply(&mut o).unwrap();
        assert_eq!(
            replace.apply(&mut o).unwrap_err().to_string(),
            "Override already exists for package 'tp-base-b'"
        );
        let remove = PackageChanges {
            override_remove: vec!["tp-base-b".into()],
            ..Default::default()
        };
        assert!(remove.apply(&mut o).is_err());
        let reset = PackageChanges {
            override_reset: vec!["tp-base-b".into()],
            ..Default::default()
        };
        reset.apply(&mut o).unwrap();
        assert!(o.override_replace_local.is_empty());
        let local = PackageChanges {
            install_local: vec!["cd34:tp-tool-1.0-1.noarch".into()],
            ..Default::default()
        };
        local.apply(&mut o).unwrap();
        assert_eq!(
            local.apply(&mut o).unwrap_err().to_string(),
            "Package/capability 'tp-tool-1.0-1.noarch' is already requested"
        );
    }

    #[test]
    fn remote_replacements_merge_by_repository_and_reset_by_name() {
        let mut o = Origin::default();
        let from = |repo: &str, names: &[&str]| PackageChanges {
            replace_remote: vec![(repo.into(), names.iter().map(|n| n.to_string()).collect())],
            ..Default::default()
        };
        from("tp-updates", &["tp-base-a"]).apply(&mut o).unwrap();
        from("tp-updates", &["tp-base-b"]).apply(&mut o).unwrap();
        assert_eq!(
            o.override_replace.iter().collect::<Vec<_>>(),
            ["repo=tp-updates,tp-base-a,tp-base-b"]
        );
        assert_eq!(
            from("other", &["tp-base-a"])
                .apply(&mut o)
                .unwrap_err()
                .to_string(),
            "Override already exists for package 'tp-base-a'"
        );
        let reset = PackageChanges {
            override_reset: vec!["tp-base-a".into(), "tp-base-b".into()],
            ..Default::default()
        };
        reset.apply(&mut o).unwrap();
        assert!(o.override_replace.is_empty());
        o.override_replace.insert("url=x,y".into());
        assert_eq!(
            remote_replacements(&o).unwrap_err().to_string(),
            "Unknown repo replacement source: url=x"
        );
    }

    #[test]
    fn treefile_fragments_carry_repo_replacements_only() {
        let json = r#"{"override-replace": [{"from": {"repo": "tp-updates"}, "packages": ["tp-base-a"]}]}"#;
        assert_eq!(
            treefile_replacements(json).unwrap(),
            [("tp-updates".to_string(), vec!["tp-base-a".to_string()])]
        );
        assert_eq!(
            treefile_replacements(r#"{"packages": ["x"]}"#)
                .unwrap_err()
                .to_string(),
            "Treefile key 'packages' is not supported yet by this rpm-ostree daemon"
        );
        assert!(treefile_replacements("[1]").is_err());
        assert!(
            treefile_replacements(
                r#"{"override-replace": [{"from": {"url": "x"}, "packages": []}]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn the_inactive_text_is_upstreams() {
        assert_eq!(
            inactive_error("tp-base-a", &["tp-base-a-1.0-1.noarch".into()]),
            "\"tp-base-a\" is already provided by: tp-base-a-1.0-1.noarch. Use --allow-inactive to explicitly require it."
        );
    }
}
