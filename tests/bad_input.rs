//! Malformed D-Bus input never crashes the daemon: every method of every
//! interface, called with wrong signatures, empty and huge strings, unknown and
//! mistyped option keys, in a loop; afterwards the daemon still answers and the
//! sysroot is unchanged.

mod common;

use common::*;
use glib::Variant;
use glib::prelude::*;

/// Members of the interfaces in data/'s XML: (interface, method, in-signature).
fn methods() -> Vec<(String, String, Vec<String>)> {
    let xml = std::fs::read_to_string(project_root().join("data/org.projectatomic.rpmostree1.xml"))
        .unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &xml,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    for iface in doc.descendants().filter(|n| n.has_tag_name("interface")) {
        let iname = iface.attribute("name").unwrap();
        if iname.ends_with("Transaction") {
            continue;
        }
        for m in iface.children().filter(|n| n.has_tag_name("method")) {
            let ins = m
                .children()
                .filter(|a| a.has_tag_name("arg") && a.attribute("direction") == Some("in"))
                .map(|a| a.attribute("type").unwrap().to_string())
                .collect();
            out.push((
                iname.to_string(),
                m.attribute("name").unwrap().to_string(),
                ins,
            ));
        }
    }
    out
}

/// A value of D-Bus type `sig`, filled with `junk` where a string goes.
fn value(sig: &str, junk: &str) -> Variant {
    match sig {
        "s" => junk.to_variant(),
        "b" => true.to_variant(),
        "o" => glib::variant::ObjectPath::try_from("/x".to_string())
            .unwrap()
            .to_variant(),
        "as" => vec![junk, "", "/etc/../root"].to_variant(),
        "a{ss}" => {
            let mut m = std::collections::BTreeMap::new();
            m.insert(junk.to_string(), junk.to_string());
            m.to_variant()
        }
        "a{sv}" => {
            let mut m = Dict::new();
            m.insert("bogus-key".into(), 1u32.to_variant());
            m.insert("reboot".into(), junk.to_variant());
            m.insert(junk.to_string(), Vec::<String>::new().to_variant());
            m.to_variant()
        }
        other => Variant::parse(Some(glib::VariantTy::new(other).unwrap()), "[]")
            .unwrap_or_else(|_| "x".to_variant()),
    }
}

/// Option dictionaries that are well-formed but say nonsense.
fn nonsense_dict(i: usize) -> Variant {
    let mut m = Dict::new();
    match i % 3 {
        0 => {
            m.insert("reboot".into(), false.to_variant());
            m.insert("definitely-not-an-option".into(), true.to_variant());
        }
        1 => {
            m.insert("initiating-command-line".into(), 42i32.to_variant());
        }
        _ => {
            m.insert("id".into(), vec!["x"].to_variant());
        }
    }
    m.to_variant()
}

fn path_for(iface: &str) -> &'static str {
    if iface.ends_with("Sysroot") {
        SYSROOT
    } else {
        OS_PATH
    }
}

#[test]
fn malformed_calls_never_crash_the_daemon() {
    let opts = Options {
        daemon_env: vec![("RPMOSTREE_TEST_START_TIMEOUT_MS".into(), "200".into())],
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let before = bed.ostree(&["admin", "status"]);
        let huge = "x".repeat(1 << 20);
        let junks = [
            "",
            "\u{1F404}",
            "../../etc/passwd",
            huge.as_str(),
            "remote:bad ref",
        ];
        let mut replies = 0;
        for round in 0..2 {
            for (iface, method, ins) in methods() {
                let path = path_for(&iface);
                let mut attempts: Vec<Variant> = vec![
                    // Wrong signatures.
                    Variant::tuple_from_iter([42u32.to_variant()]),
                    Variant::tuple_from_iter(Vec::<Variant>::new()),
                    Variant::tuple_from_iter([
                        "a".to_variant(),
                        "b".to_variant(),
                        "c".to_variant(),
                        "d".to_variant(),
                        "e".to_variant(),
                        "f".to_variant(),
                    ]),
                ];
                for junk in junks {
                    attempts.push(Variant::tuple_from_iter(ins.iter().map(|t| value(t, junk))));
                }
                for i in 0..3 {
                    attempts.push(Variant::tuple_from_iter(ins.iter().map(|t| {
                        if t == "a{sv}" {
                            nonsense_dict(i + round)
                        } else {
                            value(t, "")
                        }
                    })));
                }
                for args in attempts {
                    // Errors are the expected outcome; the reply itself is what matters.
                    let r = call(&bed.conn, path, &iface, &method, Some(&args));
                    if let Err(e) = &r {
                        assert!(
                            !error_name(e).is_empty() || e.message().contains("Timeout"),
                            "{method}: {e}"
                        );
                    }
                    replies += 1;
                }
            }
        }
        assert!(replies > 300, "{replies}");
        // Still alive, still answering, nothing changed.
        assert!(name_has_owner(&bed.conn, BUS_NAME));
        let props = bed.sysroot_props();
        assert_eq!(props["Deployments"].get::<Vec<Dict>>().unwrap().len(), 1);
        assert_eq!(bed.ostree(&["admin", "status"]), before);
        let log = bed.daemon_log();
        assert!(!log.contains("panicked"), "{log}");
        assert!(!log.contains("CRITICAL"), "{log}");
    });
}

#[test]
fn wrong_argument_types_get_invalid_args() {
    with_bed(Options::default(), |bed| {
        let e = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "Upgrade",
            Some(&Variant::tuple_from_iter(["x".to_variant()])),
        )
        .unwrap_err();
        assert_eq!(error_name(&e), "org.freedesktop.DBus.Error.InvalidArgs");
        let mut opts = Dict::new();
        opts.insert("reboot".into(), "yes".to_variant());
        let e = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "Upgrade",
            Some(&(opts,).to_variant()),
        )
        .unwrap_err();
        assert_eq!(error_name(&e), "org.freedesktop.DBus.Error.InvalidArgs");
        assert_eq!(
            error_message(&e),
            "Upgrade: option 'reboot' must be of type 'b', got 's'"
        );
        let mut opts = Dict::new();
        opts.insert("bogus".into(), true.to_variant());
        let e = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "Rollback",
            Some(&(opts,).to_variant()),
        )
        .unwrap_err();
        assert_eq!(error_message(&e), "Rollback: unknown option 'bogus'");
        let e = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "Cleanup",
            Some(&(vec!["nope"],).to_variant()),
        )
        .unwrap_err();
        assert_eq!(error_message(&e), "Invalid cleanup type: nope");
        let e = call(
            &bed.conn,
            OS_PATH,
            "org.projectatomic.rpmostree1.OSExperimental",
            "LiveFs",
            Some(&(Dict::new(),).to_variant()),
        )
        .unwrap_err();
        assert_eq!(error_name(&e), "org.freedesktop.DBus.Error.NotSupported");
        assert!(
            error_message(&e).contains("LiveFs is not implemented yet"),
            "{e}"
        );
    });
}
