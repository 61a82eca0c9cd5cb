//! `a{sv}` option dictionaries turned into checked values. Unknown keys and
//! wrong value types are rejected here, with `InvalidArgs`, and nowhere else.

use glib::Variant;
use std::collections::BTreeMap;

use crate::error::BusError;

/// One accepted option key and the D-Bus type of its value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptionSpec {
    pub key: &'static str,
    pub signature: &'static str,
}

impl OptionSpec {
    pub(crate) const fn new(key: &'static str, signature: &'static str) -> Self {
        Self { key, signature }
    }
}

/// Parsed options: every key is known and has the declared type.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Options {
    map: BTreeMap<String, Variant>,
}

impl Options {
    pub(crate) fn from_map(map: BTreeMap<String, Variant>) -> Self {
        Self { map }
    }
    pub(crate) fn keys(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }
    pub(crate) fn get(&self, key: &str) -> Option<&Variant> {
        self.map.get(key)
    }
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
    pub(crate) fn string(&self, key: &str) -> Option<String> {
        self.map.get(key).and_then(|v| v.str().map(String::from))
    }
    pub(crate) fn boolean(&self, key: &str) -> Option<bool> {
        self.map.get(key).and_then(|v| v.get::<bool>())
    }
    /// A boolean option, `false` when absent.
    pub(crate) fn flag(&self, key: &str) -> bool {
        self.boolean(key).unwrap_or(false)
    }
    pub(crate) fn strv(&self, key: &str) -> Option<Vec<String>> {
        self.map.get(key).and_then(|v| v.get::<Vec<String>>())
    }
    /// Number of elements of an array-typed option (0 when absent).
    pub(crate) fn array_len(&self, key: &str) -> usize {
        self.map
            .get(key)
            .filter(|v| v.is_container())
            .map(|v| v.n_children())
            .unwrap_or(0)
    }
}

/// Checks the `a{sv}` `dict` against `specs`. `what` names the method in errors.
pub(crate) fn parse(dict: &Variant, specs: &[OptionSpec], what: &str) -> Result<Options, BusError> {
    if dict.type_().as_str() != "a{sv}" {
        return Err(BusError::invalid_args(format!(
            "{what}: options must be of type 'a{{sv}}', got '{}'",
            dict.type_()
        )));
    }
    let mut map = BTreeMap::new();
    for entry in dict.iter() {
        let key: String = entry.child_value(0).get().unwrap_or_default();
        let value = entry
            .child_value(1)
            .as_variant()
            .unwrap_or_else(|| entry.child_value(1));
        let Some(spec) = specs.iter().find(|s| s.key == key) else {
            return Err(BusError::invalid_args(format!(
                "{what}: unknown option '{key}'"
            )));
        };
        if value.type_().as_str() != spec.signature {
            return Err(BusError::invalid_args(format!(
                "{what}: option '{key}' must be of type '{}', got '{}'",
                spec.signature,
                value.type_()
            )));
        }
        map.insert(key, value);
    }
    Ok(Options { map })
}

/// For methods whose only argument is an options dictionary.
pub(crate) fn parse_single(
    params: &Variant,
    specs: &[OptionSpec],
    what: &str,
) -> Result<Options, BusError> {
    parse(&params.child_value(0), specs, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use glib::prelude::*;

    fn dict(entries: &[(&str, Variant)]) -> Variant {
        let m: BTreeMap<String, Variant> = entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        m.to_variant()
    }

    const SPECS: &[OptionSpec] = &[
        OptionSpec::new("reboot", "b"),
        OptionSpec::new("id", "s"),
        OptionSpec::new("pkgs", "as"),
    ];

    #[test]
    fn accepts_known_keys() {
        let o = parse(
            &dict(&[
                ("reboot", true.to_variant()),
                ("id", "cli".to_variant()),
                ("pkgs", vec!["a", "b"].to_variant()),
            ]),
            SPECS,
            "Test",
        )
        .unwrap();
        assert!(o.flag("reboot"));
        assert_eq!(o.string("id").as_deref(), Some("cli"));
        assert_eq!(o.strv("pkgs").unwrap(), ["a", "b"]);
        assert_eq!(o.array_len("pkgs"), 2);
        assert!(!o.flag("absent"));
    }

    #[test]
    fn rejects_unknown_and_mistyped() {
        let e = parse(&dict(&[("bogus", true.to_variant())]), SPECS, "Test").unwrap_err();
        assert_eq!(e, BusError::invalid_args("Test: unknown option 'bogus'"));
        let e = parse(&dict(&[("reboot", "yes".to_variant())]), SPECS, "Test").unwrap_err();
        assert_eq!(
            e,
            BusError::invalid_args("Test: option 'reboot' must be of type 'b', got 's'")
        );
        assert!(parse(&"x".to_variant(), SPECS, "Test").is_err());
    }
}
