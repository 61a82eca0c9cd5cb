//! Helpers shared by unit tests: reading `data/`'s introspection XML, and
//! checking method tables against it and the polkit policy.

use crate::names;

/// Names of the methods of `iface` in the introspection XML, in order.
pub(crate) fn xml_methods(iface: &str) -> Vec<String> {
    xml_members(iface, "method")
}

/// Names of the members of kind `kind` (`method`, `signal`, `property`) of `iface`.
pub(crate) fn xml_members(iface: &str, kind: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse_with_options(
        names::INTROSPECTION_XML,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("introspection XML parses");
    let node = doc
        .descendants()
        .find(|n| n.has_tag_name("interface") && n.attribute("name") == Some(iface))
        .unwrap_or_else(|| panic!("interface {iface} in the XML"));
    node.children()
        .filter(|n| n.has_tag_name(kind))
        .filter_map(|n| n.attribute("name").map(String::from))
        .collect()
}

/// Checks a method table against the interface: one row per method of the
/// XML, and every polkit action a row names declared in the policy file.
pub(crate) fn check_method_table(iface: &str, rows: &[(&str, crate::authz::Access)]) {
    let policy = include_str!("../data/org.projectatomic.rpmostree1.policy");
    let methods = xml_methods(iface);
    assert_eq!(methods.len(), rows.len(), "{iface}");
    for m in &methods {
        let n = rows.iter().filter(|(name, _)| name == m).count();
        assert_eq!(n, 1, "{iface}.{m}");
    }
    for (method, access) in rows {
        for a in access.actions() {
            let id = format!("<action id=\"{}\">", crate::authz::action_id(a));
            assert!(policy.contains(&id), "{method}: {a} is not in the policy");
        }
    }
}

/// An `a{sv}` of `entries`.
pub(crate) fn dict(entries: &[(&str, glib::Variant)]) -> glib::Variant {
    use glib::prelude::*;
    let m: std::collections::BTreeMap<String, glib::Variant> = entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    m.to_variant()
}
