//! The daemon core on the test bed: the name, introspection, the Sysroot and OS
//! objects and their properties, booted and offline.

mod common;

use common::*;
use glib::prelude::*;
use std::process::Command;
use std::time::Duration;

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
        let get_os = |name: &str| {
            call(
                &bed.conn,
                SYSROOT,
                IFACE_SYSROOT,
                "GetOS",
                Some(&(name,).to_variant()),
            )
        };
        for name in ["testos", ""] {
            let r = get_os(name).unwrap();
            assert_eq!(r.child_value(0).str(), Some(OS_PATH), "GetOS({name:?})");
        }
        let e = get_os("nope").unwrap_err();
        assert_eq!(
            error_name(&e),
            "org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code1"
        );
        assert_eq!(error_message(&e), "OS name \"nope\" not found");
    });
}

fn deployments(bed: &Bed) -> Vec<Dict> {
    bed.sysroot_props()["Deployments"].get().unwrap()
}

#[test]
fn changes_behind_the_daemons_back_are_published() {
    with_bed(Options::default(), |bed| {
        let log = SignalLog::new(&bed.conn, Some("org.freedesktop.DBus.Properties"));
        // Pin: PropertiesChanged on the Sysroot with the new Deployments.
        bed.ostree(&["admin", "pin", "0"]);
        assert!(
            log.wait(DEADLINE, |path, member, args| {
                path == SYSROOT
                    && member == "PropertiesChanged"
                    && args
                        .child_value(1)
                        .get::<Dict>()
                        .and_then(|d| d.get("Deployments").and_then(|v| v.get::<Vec<Dict>>()))
                        .is_some_and(|ds| ds[0]["pinned"].get::<bool>() == Some(true))
            }),
            "no PropertiesChanged for the pin"
        );
        // A second deployment, then undeploying it.
        bed.ostree(&[
            "admin",
            "deploy",
            "--os=testos",
            "testremote:testos/stable/x86_64",
        ]);
        assert!(iterate_until(DEADLINE, || deployments(bed).len() == 2));
        let default: Dict = bed.os_props()["DefaultDeployment"].get().unwrap();
        assert_eq!(default["serial"].get::<i32>(), Some(1));
        bed.ostree(&["admin", "undeploy", "0"]);
        assert!(iterate_until(DEADLINE, || deployments(bed).len() == 1));
        // Reload is a no-op barrier when nothing changed.
        call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
        assert_eq!(deployments(bed).len(), 1);
    });
}

#[test]
fn a_staged_deployment_removed_by_another_tool_goes_on_reload() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.set_head(2);
        let (code, out, err) = bed.cli(&["upgrade"]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(deployments(bed).len(), 2);
        // Neither touches ostree/deploy itself, whose mtime libostree checks.
        let rm = run(&mut bed.command(&[
            "sh",
            "-c",
            "rm /run/ostree/staged-deployment && ostree admin cleanup",
        ]));
        assert_eq!(rm.0, 0, "{rm:?}");
        call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
        assert_eq!(deployments(bed).len(), 1);
        let (code, out, err) = bed.cli(&["status"]);
        assert_eq!(code, 0);
        assert!(!err.contains("warning"), "{err}");
        assert!(!out.contains("Staged"), "{out}");
    });
}

#[test]
fn os_objects_follow_stateroots() {
    with_bed(Options::default(), |bed| {
        let log = SignalLog::new(&bed.conn, Some("org.freedesktop.DBus.ObjectManager"));
        bed.ostree(&["admin", "os-init", "other.os"]);
        bed.ostree(&[
            "admin",
            "deploy",
            "--os=other.os",
            "testremote:testos/stable/x86_64",
        ]);
        call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
        let path = "/org/projectatomic/rpmostree1/other_2Eos";
        assert!(log.wait(DEADLINE, |_, m, a| m == "InterfacesAdded"
            && a.child_value(0).str() == Some(path)));
        let props = get_all(&bed.conn, path, IFACE_OS);
        assert_eq!(props["Name"].str(), Some("other.os"));
        let r = call(
            &bed.conn,
            SYSROOT,
            IFACE_SYSROOT,
            "GetOS",
            Some(&("other.os",).to_variant()),
        )
        .unwrap();
        assert_eq!(r.child_value(0).str(), Some(path));
        // The ObjectManager lists both OS objects and the Sysroot.
        let managed = call(
            &bed.conn,
            "/org/projectatomic/rpmostree1",
            "org.freedesktop.DBus.ObjectManager",
            "GetManagedObjects",
            None,
        )
        .unwrap();
        let objects: std::collections::BTreeMap<
            glib::variant::ObjectPath,
            std::collections::BTreeMap<String, Dict>,
        > = managed.child_value(0).get().unwrap();
        let paths: Vec<&str> = objects.keys().map(|p| p.as_str()).collect();
        assert_eq!(paths, [SYSROOT, path, OS_PATH]);
        // Undeploying its only deployment removes the object.
        bed.ostree(&["admin", "undeploy", "0"]);
        call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
        assert!(log.wait(DEADLINE, |_, m, a| m == "InterfacesRemoved"
            && a.child_value(0).str() == Some(path)));
    });
}

#[test]
fn cockpit_and_gnome_software_startup() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            // cockpit-ostree: the ObjectManager, RegisterClient, Booted, Deployments, OS props.
            let managed = call(
                &bed.conn,
                "/org/projectatomic/rpmostree1",
                "org.freedesktop.DBus.ObjectManager",
                "GetManagedObjects",
                None,
            )
            .unwrap();
            assert_eq!(managed.type_().as_str(), "(a{oa{sa{sv}}})");
            let objects: std::collections::BTreeMap<
                glib::variant::ObjectPath,
                std::collections::BTreeMap<String, Dict>,
            > = managed.child_value(0).get().unwrap();
            let os = &objects
                .iter()
                .find(|(p, _)| p.as_str() == OS_PATH)
                .unwrap()
                .1;
            assert!(os.contains_key(IFACE_OS));
            assert_eq!(os[IFACE_OS]["Name"].str(), Some("testos"));
            let mut opts = Dict::new();
            opts.insert("id".into(), "cockpit-ostree".to_variant());
            call(
                &bed.conn,
                SYSROOT,
                IFACE_SYSROOT,
                "RegisterClient",
                Some(&(opts,).to_variant()),
            )
            .unwrap();
            let sys = bed.sysroot_props();
            assert_eq!(sys["Booted"].str(), Some(OS_PATH));
            let ds: Vec<Dict> = sys["Deployments"].get().unwrap();
            assert_eq!(ds.len(), 1);
            // GNOME Software: GetOS(""), Reload, DefaultDeployment with the asserted keys.
            let r = call(
                &bed.conn,
                SYSROOT,
                IFACE_SYSROOT,
                "GetOS",
                Some(&("",).to_variant()),
            )
            .unwrap();
            assert_eq!(r.child_value(0).str(), Some(OS_PATH));
            call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
            let default: Dict = bed.os_props()["DefaultDeployment"].get().unwrap();
            for k in ["packages", "requested-local-packages", "checksum"] {
                assert!(default.contains_key(k), "{k}");
            }
            assert!(
                bed.daemon_log().contains("client(id:cockpit-ostree dbus:"),
                "{}",
                bed.daemon_log()
            );
            call(
                &bed.conn,
                SYSROOT,
                IFACE_SYSROOT,
                "UnregisterClient",
                Some(&(Dict::new(),).to_variant()),
            )
            .unwrap();
        },
    );
}

#[test]
fn idle_exit_after_timeout_but_not_while_a_client_is_registered() {
    let opts = Options {
        config: Some("[Daemon]\nIdleExitTimeout=1\n".into()),
        ..Default::default()
    };
    with_bed(opts, |bed| {
        // A registered client keeps it alive past the timeout.
        let client = connect(&bed.bus_address);
        call(
            &client,
            SYSROOT,
            IFACE_SYSROOT,
            "RegisterClient",
            Some(&(Dict::new(),).to_variant()),
        )
        .unwrap();
        assert!(
            !iterate_until(Duration::from_millis(2500), || !name_has_owner(
                &bed.conn, BUS_NAME
            )),
            "exited while a client was registered"
        );
        // The client leaves the bus: idle from now, exit about a second later,
        // releasing the name.
        drop(client);
        assert!(wait_name(&bed.conn, BUS_NAME, false, DEADLINE));
        let log = bed.daemon_log();
        assert!(log.contains("vanished; remaining=0"), "{log}");
        assert!(log.contains("Exiting due to idle"), "{log}");
    });
}

#[test]
fn bus_activation_starts_the_daemon() {
    let opts = Options {
        activation: true,
        no_daemon: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        assert!(!name_has_owner(&bed.conn, BUS_NAME));
        let r = call(
            &bed.conn,
            SYSROOT,
            IFACE_SYSROOT,
            "GetOS",
            Some(&("",).to_variant()),
        )
        .unwrap();
        assert_eq!(r.child_value(0).str(), Some(OS_PATH));
        let pid = bus_name_pid(&bed.conn, BUS_NAME);
        // `rpm-ostree start-daemon` gives the daemon GLib's malloc-only slices
        // (GLib 2.74's slice caches would keep every big reply's memory).
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        assert!(
            environ
                .split(|b| *b == 0)
                .any(|e| e == b"G_SLICE=always-malloc"),
            "the daemon's environment lacks G_SLICE=always-malloc"
        );
        // The activated daemon is not our child: stop it ourselves.
        kill(pid, libc::SIGTERM);
        assert!(wait_pid_exit(pid, DEADLINE));
        assert!(wait_name(&bed.conn, BUS_NAME, false, DEADLINE));
    });
}

#[test]
fn invalid_configuration_is_refused_at_startup_and_on_reload() {
    let opts = Options {
        config: Some("[Daemon]\nAutomaticUpdatePolicy=sometimes\n".into()),
        no_daemon: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let (code, _, err) = run(Command::new(BIN)
            .arg("start-daemon")
            .arg("--test-hooks")
            .arg(format!("--sysroot={}", bed.sysroot().display()))
            .envs([("DBUS_SYSTEM_BUS_ADDRESS", bed.bus_address.as_str())])
            .env("RPMOSTREE_TEST_CONFIG", bed.tb.join("rpm-ostreed.conf"))
            .env("RPMOSTREE_TEST_RUNTIME_DIR", bed.tb.join("rt")));
        assert_eq!(code, 1);
        assert!(
            err.contains("error: Invalid value for AutomaticUpdatePolicy: 'sometimes'"),
            "{err}"
        );
        // A valid file, then a bad one and ReloadConfig.
        std::fs::write(
            bed.tb.join("rpm-ostreed.conf"),
            "[Daemon]\nAutomaticUpdatePolicy=ex-stage\n",
        )
        .unwrap();
        bed.start_daemon();
        assert_eq!(
            bed.sysroot_props()["AutomaticUpdatePolicy"].str(),
            Some("stage")
        );
        std::fs::write(
            bed.tb.join("rpm-ostreed.conf"),
            "[Daemon]\nAutomaticUpdatePolicy=bogus\n",
        )
        .unwrap();
        let e = call(&bed.conn, SYSROOT, IFACE_SYSROOT, "ReloadConfig", None).unwrap_err();
        assert_eq!(
            error_message(&e),
            "Handling config reload: Reloading daemon configuration: Invalid value for AutomaticUpdatePolicy: 'bogus'"
        );
        std::fs::write(
            bed.tb.join("rpm-ostreed.conf"),
            "[Daemon]\nAutomaticUpdatePolicy=check\n",
        )
        .unwrap();
        let log = SignalLog::new(&bed.conn, Some("org.freedesktop.DBus.Properties"));
        call(&bed.conn, SYSROOT, IFACE_SYSROOT, "ReloadConfig", None).unwrap();
        assert!(log.wait(DEADLINE, |_, _, a| {
            a.child_value(1).get::<Dict>().is_some_and(|d| {
                d.get("AutomaticUpdatePolicy")
                    .and_then(|v| v.str().map(String::from))
                    .as_deref()
                    == Some("check")
            })
        }));
    });
}
