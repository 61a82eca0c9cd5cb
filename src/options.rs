//! `a{sv}` option dictionaries turned into checked values. Unknown keys and
//! wrong value types are rejected here, with `InvalidArgs`, and nowhere else.
//! File descriptor values (`h`, `ah`) index the message's fd list; they come
//! out as owned descriptors (duplicates), so the request can outlive the call.

use glib::Variant;
use std::collections::BTreeMap;
use std::os::fd::OwnedFd;

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
#[derive(Debug, Default)]
pub(crate) struct Options {
    map: BTreeMap<String, Variant>,
    fds: BTreeMap<String, Vec<OwnedFd>>,
}

impl Options {
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
    /// The descriptors of an `h` or `ah` option (`None` when absent).
    pub(crate) fn take_fds(&mut self, key: &str) -> Option<Vec<OwnedFd>> {
        self.fds.remove(key)
    }
    /// The value of a `(ss)` option.
    pub(crate) fn string_pair(&self, key: &str) -> Option<(String, String)> {
        self.map.get(key).and_then(|v| v.get::<(String, String)>())
    }
}

/// The descriptors `value` (an `h` or `ah`) points at in `fds` (duplicates).
fn descriptors(
    value: &Variant,
    fds: &[OwnedFd],
    what: &str,
    key: &str,
) -> Result<Vec<OwnedFd>, BusError> {
    let indices: Vec<i32> = match value.type_().as_str() {
        "h" => vec![
            value
                .get::<glib::variant::Handle>()
                .map(|h| h.0)
                .unwrap_or(-1),
        ],
        _ => value
            .iter()
            .map(|h| h.get::<glib::variant::Handle>().map(|h| h.0).unwrap_or(-1))
            .collect(),
    };
    indices
        .into_iter()
        .map(|i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| fds.get(i))
                .and_then(|fd| fd.try_clone().ok())
                .ok_or_else(|| {
                    BusError::invalid_args(format!(
                        "{what}: option '{key}': no file descriptor at index {i}"
                    ))
                })
        })
        .collect()
}

/// Checks the `a{sv}` `dict` against `specs`, taking descriptor values from
/// `fds`. `what` names the method in errors.
pub(crate) fn parse_with_fds(
    dict: &Variant,
    specs: &[OptionSpec],
    what: &str,
    fds: &[OwnedFd],
) -> Result<Options, BusError> {
    if dict.type_().as_str() != "a{sv}" {
        return Err(BusError::invalid_args(format!(
            "{what}: options must be of type 'a{{sv}}', got '{}'",
            dict.type_()
        )));
    }
    let mut map = BTreeMap::new();
    let mut descs = BTreeMap::new();
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
        if matches!(spec.signature, "h" | "ah") {
            descs.insert(key.clone(), descriptors(&value, fds, what, &key)?);
        }
        map.insert(key, value);
    }
    Ok(Options { map, fds: descs })
}

/// [`parse_with_fds`] for dictionaries without descriptor options.
pub(crate) fn parse(dict: &Variant, specs: &[OptionSpec], what: &str) -> Result<Options, BusError> {
    parse_with_fds(dict, specs, what, &[])
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
    use crate::testutil::dict;
    use glib::prelude::*;

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

    #[test]
    fn descriptors_come_from_the_fd_list() {
        use std::os::fd::AsRawFd;
        let specs = [OptionSpec::new("pkgs", "ah"), OptionSpec::new("one", "h")];
        let file = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
        let list = [file.try_clone().unwrap()];
        let handles = vec![glib::variant::Handle(0), glib::variant::Handle(0)];
        let d = dict(&[
            ("pkgs", handles.to_variant()),
            ("one", glib::variant::Handle(0).to_variant()),
        ]);
        let mut o = parse_with_fds(&d, &specs, "Test", &list).unwrap();
        let fds = o.take_fds("pkgs").unwrap();
        assert_eq!(fds.len(), 2);
        assert_ne!(fds[0].as_raw_fd(), file.as_raw_fd(), "duplicated");
        assert_eq!(o.take_fds("one").unwrap().len(), 1);
        assert!(o.take_fds("absent").is_none());
        let bad = dict(&[("one", glib::variant::Handle(3).to_variant())]);
        assert_eq!(
            parse_with_fds(&bad, &specs, "Test", &list).unwrap_err(),
            BusError::invalid_args("Test: option 'one': no file descriptor at index 3")
        );
        assert!(parse(&bad, &specs, "Test").is_err());
    }
}
