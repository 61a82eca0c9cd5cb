//! The daemon core on the test bed: the name, introspection, the Sysroot and OS
//! objects and their properties, booted and offline.

mod common;

use common::*;
use glib::prelude::*;

/// A canonical description of one interface of an introspection document.
fn describe(xml: &str, iface: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse_with_options(
        xml,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .expect("introspection XML parses");
    let node = doc
        .descendants()
        .find(|n| n.has_tag_name("interface") && n.attribute("name") == Some(iface))
        .unwrap_or_else(|| panic!("{iface} not in XML"));
    let mut out = Vec::new();
    for m in node.children().filter(|n| n.is_element()) {
        let mut s = format!(
            "{} {}",
            m.tag_name().name(),
            m.attribute("name").unwrap_or("")
        );
        let mut attrs: Vec<String> = m
            .attributes()
            .filter(|a| a.name() != "name")
            .map(|a| format!(" {}={}", a.name(), a.value()))
            .collect();
        attrs.sort();
        s.extend(attrs);
        // Arguments in order; annotations (which GDBus lists first) sorted after them.
        let mut children: Vec<(bool, String)> = Vec::new();
        for c in m.children().filter(|n| n.is_element()) {
            let mut e = format!(" <{}", c.tag_name().name());
            let mut attrs: Vec<String> = c
                .attributes()
                // GDBus spells out the direction of signal arguments.
                .filter(|a| !(a.name() == "direction" && m.has_tag_name("signal")))
                .map(|a| format!(" {}={}", a.name(), a.value()))
                .collect();
            attrs.sort();
            e.extend(attrs);
            e.push('>');
            children.push((c.has_tag_name("annotation"), e));
        }
        let (mut annotations, args): (Vec<_>, Vec<_>) = children.into_iter().partition(|(a, _)| *a);
        annotations.sort();
        s.extend(args.into_iter().chain(annotations).map(|(_, e)| e));
        out.push(s);
    }
    out.sort();
    out
}

fn introspect(bed: &Bed, path: &str) -> String {
    let r = call(
        &bed.conn,
        path,
        "org.freedesktop.DBus.Introspectable",
        "Introspect",
        None,
    )
    .expect("Introspect");
    r.child_value(0).str().unwrap().to_string()
}

#[test]
fn booted_daemon_owns_its_name_and_serves_the_data_xml() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            assert!(name_has_owner(&bed.conn, BUS_NAME));
            let data = std::fs::read_to_string(
                project_root().join("data/org.projectatomic.rpmostree1.xml"),
            )
            .unwrap();
            let sysroot = introspect(bed, SYSROOT);
            assert_eq!(
                describe(&sysroot, IFACE_SYSROOT),
                describe(&data, IFACE_SYSROOT)
            );
            let os = introspect(bed, OS_PATH);
            for iface in [IFACE_OS, "org.projectatomic.rpmostree1.OSExperimental"] {
                assert_eq!(describe(&os, iface), describe(&data, iface), "{iface}");
            }
            // Booted: the Sysroot says so, the path is /, the deployment is booted.
            let props = bed.sysroot_props();
            assert_eq!(props["Booted"].str(), Some(OS_PATH));
            assert_eq!(props["Path"].str(), Some("/"));
            let os = bed.os_props();
            let booted: Dict = os["BootedDeployment"].get().unwrap();
            assert_eq!(dict_str(&booted, "checksum"), Some(bed.world("CSUM_V1")));
            assert_eq!(booted["booted"].get::<bool>(), Some(true));
            let status = bed.ostree(&["admin", "status"]);
            assert!(
                status.contains(&format!("* testos {}.0", bed.world("CSUM_V1"))),
                "{status}"
            );
        },
    );
}

#[test]
fn offline_properties_agree_with_ostree_admin_status() {
    with_bed(Options::default(), |bed| {
        let props = bed.sysroot_props();
        assert_eq!(
            props["Booted"].str(),
            Some("/"),
            "decision 6: offline Booted is /"
        );
        assert_eq!(props["Path"].str(), Some(bed.sysroot().to_str().unwrap()));
        assert_eq!(
            props["ActiveTransaction"].get::<(String, String, String)>(),
            Some(Default::default())
        );
        assert_eq!(props["ActiveTransactionPath"].str(), Some(""));
        assert_eq!(props["AutomaticUpdatePolicy"].str(), Some("none"));
        let deployments: Vec<Dict> = props["Deployments"].get().unwrap();
        assert_eq!(deployments.len(), 1);
        let d = &deployments[0];
        let v1 = bed.world("CSUM_V1");
        assert_eq!(dict_str(d, "id"), Some(format!("testos-{v1}.0")));
        assert_eq!(dict_str(d, "osname").as_deref(), Some("testos"));
        assert_eq!(dict_str(d, "version").as_deref(), Some("1"));
        assert_eq!(
            dict_str(d, "origin").as_deref(),
            Some("testremote:testos/stable/x86_64")
        );
        assert_eq!(d["serial"].type_().as_str(), "i");
        assert_eq!(d["timestamp"].get::<u64>(), Some(1704067200));
        assert_eq!(d["booted"].get::<bool>(), Some(false));
        assert_eq!(d["staged"].get::<bool>(), Some(false));
        assert_eq!(d["pinned"].get::<bool>(), Some(false));
        assert_eq!(dict_str(d, "unlocked").as_deref(), Some("none"));
        for (k, t) in [
            ("packages", "as"),
            ("requested-packages", "as"),
            ("requested-local-packages", "as"),
            ("requested-local-fileoverride-packages", "as"),
            ("requested-base-removals", "as"),
            ("requested-base-local-replacements", "as"),
            ("base-removals", "av"),
            ("base-local-replacements", "a(vv)"),
            ("base-remote-replacements", "a{sv}"),
            ("base-commit-meta", "a{sv}"),
            ("regenerate-initramfs", "b"),
            ("gpg-enabled", "b"),
        ] {
            assert_eq!(
                d.get(k).map(|v| v.type_().as_str().to_string()).as_deref(),
                Some(t),
                "{k}"
            );
        }
        // The remote's head (v3) differs from the deployed v1? The local ref is v1.
        assert!(!d.contains_key("pending-base-checksum"));
        let os = bed.os_props();
        assert_eq!(os["Name"].str(), Some("testos"));
        let default: Dict = os["DefaultDeployment"].get().unwrap();
        assert_eq!(dict_str(&default, "checksum"), Some(v1.clone()));
        let booted: Dict = os["BootedDeployment"].get().unwrap();
        assert!(booted.is_empty());
        assert_eq!(os["HasCachedUpdateRpmDiff"].get::<bool>(), Some(false));
        let status = bed.ostree(&["admin", "status"]);
        assert!(status.contains(&format!("testos {v1}.0")), "{status}");
        // GetOS: by name, "" and unknown.
        let r = call(
            &bed.conn,
            SYSROOT,
            IFACE_SYSROOT,
            "GetOS",
            Some(&("testos",).to_variant()),
        )
        .unwrap();
        assert_eq!(r.child_value(0).str(), Some(OS_PATH));
        let r = call(
            &bed.conn,
            SYSROOT,
            IFACE_SYSROOT,
            "GetOS",
            Some(&("",).to_variant()),
        )
        .unwrap();
        assert_eq!(r.child_value(0).str(), Some(OS_PATH));
        let e = call(
            &bed.conn,
            SYSROOT,
            IFACE_SYSROOT,
            "GetOS",
            Some(&("nope",).to_variant()),
        )
        .unwrap_err();
        assert_eq!(
            error_name(&e),
            "org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code1"
        );
        assert_eq!(error_message(&e), "OS name \"nope\" not found");
    });
}
