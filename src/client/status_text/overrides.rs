//! The override lines of a deployment in `status`: removals, local and
//! remote replacements, active and (with `-v`) inactive ones.

use glib::Variant;
use std::collections::BTreeMap;

use super::{Dict, Out, inactive_line, strv};

/// Every override line of the deployment `d`.
pub(super) fn lines(out: &mut Out, w: usize, d: &Dict, verbose: bool) {
    let mut removed = base_removals(d);
    removed.sort_by_key(|p| p.to_lowercase());
    if !removed.is_empty() {
        out.kv(w, "RemovedBasePackages", &removed.join(" "));
    }
    if verbose {
        let active: Vec<String> = removed
            .iter()
            .filter_map(|r| r.split(' ').next().map(String::from))
            .collect();
        let requested = strv(d, "requested-base-removals");
        inactive_line(out, w, "InactiveBaseRemovals", requested, &active);
    }
    let replaced = replacements(d.get("base-local-replacements"));
    if !replaced.is_empty() {
        out.kv(w, "LocalOverrides", &replacement_text(&replaced));
    }
    if verbose {
        let active: Vec<String> = replaced.iter().map(|r| r.3.clone()).collect();
        let requested = strv(d, "requested-base-local-replacements");
        inactive_line(out, w, "InactiveLocalOverrides", requested, &active);
    }
    remote_override_lines(out, w, d, verbose);
}

/// `base-removals` as status shows them: `name [epoch:]version-release`.
fn base_removals(d: &Dict) -> Vec<String> {
    let Some(list) = d.get("base-removals") else {
        return Vec::new();
    };
    (0..list.n_children())
        .filter_map(|i| {
            let (name, evr, _) = nevra_parts(&list.child_value(i).as_variant()?)?;
            Some(format!("{name} {evr}"))
        })
        .collect()
}

/// A NEVRA tuple `(nevra, name, epoch, version, release, arch)`: its name,
/// `[epoch:]version-release` and NEVRA.
fn nevra_parts(t: &glib::Variant) -> Option<(String, String, String)> {
    let (nevra, name, epoch, version, release, _) =
        t.get::<(String, String, u64, String, String, String)>()?;
    let evr = if epoch == 0 {
        format!("{version}-{release}")
    } else {
        format!("{epoch}:{version}-{release}")
    };
    Some((name, evr, nevra))
}

/// Replacements (`a(vv)`): (name, old EVR, new EVR, new NEVRA).
fn replacements(list: Option<&Variant>) -> Vec<(String, String, String, String)> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.n_children())
        .filter_map(|i| {
            let pair = list.child_value(i);
            let (_, new_evr, new_nevra) = nevra_parts(&pair.child_value(0).as_variant()?)?;
            let (name, old_evr, _) = nevra_parts(&pair.child_value(1).as_variant()?)?;
            Some((name, old_evr, new_evr, new_nevra))
        })
        .collect()
}

/// Replacements as status shows them: names with the same change grouped,
/// `a b 1.0-1 -> 2.0-1, c 2-1 -> 1-1`.
fn replacement_text(list: &[(String, String, String, String)]) -> String {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, old, new, _) in list {
        groups
            .entry(format!("{old} -> {new}"))
            .or_default()
            .push(name);
    }
    let mut parts: Vec<String> = groups
        .into_iter()
        .map(|(change, mut names)| {
            names.sort_by_key(|n| n.to_lowercase());
            format!("{} {change}", names.join(" "))
        })
        .collect();
    parts.sort_by_key(|p| p.to_lowercase());
    parts.join(", ")
}

/// `RemoteOverrides`: each source, its replacements below it; with `-v`,
/// `InactiveRemoteOverrides`: requested names that replace nothing.
fn remote_override_lines(out: &mut Out, w: usize, d: &Dict, verbose: bool) {
    let by_source: BTreeMap<String, Variant> = d
        .get("base-remote-replacements")
        .and_then(|v| v.get())
        .unwrap_or_default();
    let mut active: Vec<String> = Vec::new();
    let mut first = true;
    for (source, list) in &by_source {
        let these = replacements(Some(list));
        if these.is_empty() {
            continue;
        }
        if first {
            out.kv(w, "RemoteOverrides", source);
            first = false;
        } else {
            out.cont(w, source);
        }
        for (i, r) in these.iter().enumerate() {
            let branch = if i + 1 == these.len() {
                "└─"
            } else {
                "├─"
            };
            out.cont(
                w,
                &format!("{branch} {}", replacement_text(std::slice::from_ref(r))),
            );
            active.push(r.0.clone());
        }
    }
    if !verbose {
        return;
    }
    let requested: Vec<(String, Vec<String>)> = d
        .get("requested-base-remote-replacements")
        .and_then(|v| v.get())
        .unwrap_or_default();
    let names = requested.into_iter().flat_map(|(_, names)| names).collect();
    inactive_line(out, w, "InactiveRemoteOverrides", names, &active);
}

#[cfg(test)]
mod tests {
    use super::*;
    use glib::prelude::*;

    #[test]
    fn replacements_with_the_same_change_are_grouped() {
        let r = |n: &str, o: &str, v: &str| {
            (n.to_string(), o.to_string(), v.to_string(), String::new())
        };
        let list = [
            r("b", "1-1", "2-1"),
            r("a", "1-1", "2-1"),
            r("c", "3-1", "2-1"),
        ];
        assert_eq!(replacement_text(&list), "a b 1-1 -> 2-1, c 3-1 -> 2-1");
    }

    #[test]
    fn local_replacements_read_name_and_both_versions() {
        let new = ("a-1:2-1.noarch", "a", 1u64, "2", "1", "noarch").to_variant();
        let old = ("a-1-1.noarch", "a", 0u64, "1", "1", "noarch").to_variant();
        let pair = (new, old).to_variant();
        let list = glib::Variant::array_from_iter_with_type(pair.type_(), [pair.clone()]);
        let mut d = Dict::new();
        d.insert("base-local-replacements".into(), list);
        assert_eq!(
            replacements(d.get("base-local-replacements")),
            [(
                "a".to_string(),
                "1-1".to_string(),
                "1:2-1".to_string(),
                "a-1:2-1.noarch".to_string()
            )]
        );
    }
}
