//! Helpers shared by unit tests: reading `data/`'s introspection XML.

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
