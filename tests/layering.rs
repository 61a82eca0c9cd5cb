//! Package layering end to end, on the test bed's RPMs and repositories:
//! install and uninstall (CLI and D-Bus, booted and offline), what the new
//! deployment holds (files, modes, capabilities, tmpfiles, scripts' marks,
//! the rpm database: `rpm -qa` is the oracle), status, the pkgcache, the
//! layer kept across upgrades and rebases, and every refusal and fault
//! leaving the sysroot as it was.

mod common;

use common::layer::*;
use common::rpmmd::*;
use common::*;
use glib::prelude::*;
use std::process::Command;

#[test]
fn install_layers_a_package_and_its_dependencies() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_repo(opts, APP, |bed, served| {
        let v1 = bed.world("CSUM_V1");
        let out = ok(bed, &["install", "tp-app"]);
        for line in [
            "Checking out tree ",
            "Resolving dependencies...done\n",
            "Will download: 3 packages (",
            "Importing packages...done\n",
            "tp-app pre: 1\n",
            "Running post scripts...done\n",
            "Writing rpmdb...done\n",
            "Writing OSTree commit...done\n",
            "Added:\n  tp-app-1.0-1.noarch\n  tp-lib-1.0-1.noarch\n  tp-tool-1.0-1.noarch\n",
            "Run \"systemctl reboot\" to start a reboot\n",
        ] {
            assert!(out.contains(line), "{line:?} not in:\n{out}");
        }
        // The new deployment: the base plus the packages, laid out as upstream lays them out.
        let all = deployments(bed);
        let new = &all[0];
        assert_eq!(dict_str(new, "base-checksum"), Some(v1.clone()));
        assert_eq!(new["packages"].get::<Vec<String>>().unwrap(), ["tp-app"]);
        assert_eq!(
            new["requested-packages"].get::<Vec<String>>().unwrap(),
            ["tp-app"]
        );
        let layered: Dict = new["layered-commit-meta"].get().unwrap();
        assert_eq!(layered["rpmostree.clientlayer"].get::<bool>(), Some(true));
        assert!(!layered.contains_key("rpmostree.rpmdb.pkglist"));
        let root = root_of(bed, new);
        let qa = rpm_qa(&root);
        for p in [
            "tp-app-1.0-1.noarch",
            "tp-lib-1.0-1.noarch",
            "tp-tool-1.0-1.noarch",
            "tp-base-core-1.0-1.noarch",
        ] {
            assert!(qa.contains(&p.to_string()), "{p} not in {qa:?}");
        }
        assert_eq!(qa.len(), 9, "{qa:?}");
        assert_eq!(mode(&root.join("usr/bin/tp-suid")), 0o4755);
        assert_eq!(
            xattr(&root.join("usr/bin/tp-ping"), "security.capability"),
            [
                1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
        assert!(root.join("usr/etc/tp-app.conf").is_file());
        assert!(root.join("usr/lib/opt/tp-app/data").is_file());
        assert_eq!(
            std::fs::read_to_string(root.join("usr/lib/rpm-ostree/tmpfiles.d/tp-app.conf"))
                .unwrap(),
            "L /opt/tp-app - - - - /usr/lib/opt/tp-app\nd /var/lib/tp-app 0750 nobody nogroup - -\n"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("usr/share/tp-app/post-ran")).unwrap(),
            "1\n"
        );
        assert!(root.join("usr/share/tp-app/posttrans-ran").is_file());
        let origin =
            std::fs::read_to_string(root.with_extension("0.origin")).unwrap_or_else(|_| {
                std::fs::read_to_string(format!("{}.origin", root.display())).unwrap()
            });
        assert!(
            origin.contains("baserefspec=testremote:testos/stable/x86_64"),
            "{origin}"
        );
        assert!(origin.contains("requested=tp-app;"), "{origin}");
        assert_eq!(
            pkgcache_refs(bed),
            [
                "rpmostree/pkg/tp-app/1.0-1.noarch",
                "rpmostree/pkg/tp-lib/1.0-1.noarch",
                "rpmostree/pkg/tp-tool/1.0-1.noarch"
            ]
        );
        // The base is kept by upstream's ref for bases of layered deployments.
        assert_eq!(
            ostree_repo(bed, &["refs", "rpmostree/base", "--list"]).trim(),
            "rpmostree/base/0"
        );
        assert_eq!(
            ostree_repo(bed, &["rev-parse", "rpmostree/base/0"]).trim(),
            v1
        );
        fsck(bed);
        // Status.
        let status = ok(bed, &["status"]);
        assert!(
            status.contains("          LayeredPackages: tp-app\n"),
            "{status}"
        );
        assert!(
            status.contains(&format!("               BaseCommit: {v1}\n")),
            "{status}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&ok(bed, &["status", "--json"])).unwrap();
        assert_eq!(
            json["deployments"][0]["packages"],
            serde_json::json!(["tp-app"])
        );
        assert_eq!(
            json["deployments"][0]["base-checksum"],
            serde_json::json!(v1)
        );
        assert_eq!(json["deployments"][1]["packages"], serde_json::json!([]));
        // Again: refused, or a no-op with --idempotent (exit 77 asked).
        assert!(
            fails(bed, &["install", "tp-app"])
                .contains("Package/capability 'tp-app' is already requested")
        );
        let (code, out, err) =
            bed.cli(&["install", "--idempotent", "--unchanged-exit-77", "tp-app"]);
        assert_eq!(code, 77, "{out}{err}");
        // Uninstall: the pending deployment is the base again.
        ok(bed, &["uninstall", "tp-app"]);
        let all = deployments(bed);
        assert!(!all[0].contains_key("base-checksum"));
        assert_eq!(dict_str(&all[0], "checksum"), Some(v1.clone()));
        assert!(
            fails(bed, &["uninstall", "tp-app"])
                .contains("Package/capability 'tp-app' is not currently requested")
        );
        // Install again (the staged deployment that used the pkgcache was
        // replaced, so its packages were pruned: they are fetched again).
        ok(bed, &["install", "tp-app"]);
        assert!(
            served
                .requests()
                .iter()
                .filter(|r| r.ends_with("tp-app-1.0-1.noarch.rpm"))
                .count()
                == 2
        );
        // uninstall --all: no deployment uses the pkgcache any more.
        let out = ok(bed, &["uninstall", "--all"]);
        assert!(out.contains("(pkgcache branches: 3)"), "{out}");
        assert!(pkgcache_refs(bed).is_empty());
        assert_eq!(ostree_repo(bed, &["refs", "rpmostree/base", "--list"]), "");
        fsck(bed);
    });
}

#[test]
fn refusals_change_nothing() {
    let opts = Options {
        config: Some("[Daemon]\nLockLayering=false\n".into()),
        ..Default::default()
    };
    with_repo(
        opts,
        &[
            "tp-app-1.0-1",
            "tp-lib-1.0-1",
            "tp-tool-1.0-1",
            "tp-conflict-1.0-1",
            "tp-fail-1.0-1",
            "tp-needs-new-a-1.0-1",
            "tp-base-a-2.0-1",
        ],
        |bed, _| {
            let before = snapshot(bed);
            let refs = pkgcache_refs(bed);
            let err = fails(bed, &["install", "tp-nope", "tp-app", "zz-nope"]);
            assert!(
                err.contains("Packages not found: tp-nope, zz-nope"),
                "{err}"
            );
            let err = fails(bed, &["install", "tp-base-a"]);
            assert!(
            err.contains("\"tp-base-a\" is already provided by: tp-base-a-1.0-1.noarch. Use --allow-inactive to explicitly require it."),
            "{err}"
        );
            let err = fails(bed, &["install", "tp-conflict"]);
            assert!(
                err.contains("conflicts with tp-base-core provided by tp-base-core-1.0-1.noarch"),
                "{err}"
            );
            let err = fails(bed, &["install", "tp-needs-new-a"]);
            // Would replace the base's tp-base-a 1.0: the solver says why not.
            assert!(
                err.contains(
                    "package tp-needs-new-a-1.0-1.noarch requires tp-base-a >= 2.0, \
                     but none of the providers can be installed"
                ),
                "{err}"
            );
            let err = fails(bed, &["install", "tp-fail"]);
            assert!(
                err.contains(
                    "Running %post for tp-fail: bwrap(/bin/sh): Child process exited with code 1"
                ),
                "{err}"
            );
            assert!(err.contains("tp-fail: %post failing on purpose"), "{err}");
            let err = fails(bed, &["install", "./local.rpm"]);
            assert!(
                err.contains("openat(./local.rpm): No such file or directory"),
                "{err}"
            );
            let err = fails(bed, &["install", "-A", "tp-app"]);
            assert!(err.contains("--apply-live is not supported yet"), "{err}");
            let (code, _, err) = bed.cli(&["install"]);
            assert_eq!(
                (code, err.trim()),
                (1, "error: At least one PACKAGE must be specified")
            );
            assert_eq!(snapshot(bed), before);
            // tp-fail's import is a complete pkgcache commit (reused next time),
            // and nothing half-done is left in the repository's tmp.
            assert!(pkgcache_refs(bed).len() >= refs.len());
            no_layer_workdirs(bed);
            // A dry run prints the transaction and changes nothing.
            let out = ok(bed, &["install", "-n", "tp-app"]);
            assert!(
                out.contains("  Installing 3 packages:\n    tp-app-1.0-1.noarch (tp-main)\n"),
                "{out}"
            );
            assert!(
                out.contains("Exiting because of '--dry-run' option"),
                "{out}"
            );
            assert_eq!(snapshot(bed), before);
            fsck(bed);
        },
    );
    let opts = Options {
        config: Some("[Daemon]\nLockLayering=true\n".into()),
        ..Default::default()
    };
    with_repo(opts, APP, |bed, _| {
        let err = fails(bed, &["install", "tp-tool"]);
        assert!(
            err.contains("Cannot operate; `LockLayering=true` in configuration."),
            "{err}"
        );
    });
}

#[test]
fn the_layer_is_kept_across_upgrades_and_rebases() {
    with_repo(Options::default(), APP, |bed, served| {
        // As GNOME Software asks: UpdateDeployment with install-packages.
        let (code, ev) = bed.txn_client(
            None,
            &[
                "--bus-call",
                OS_PATH,
                IFACE_OS,
                "UpdateDeployment",
                "({'install-packages': <['tp-tool']>}, {'no-pull-base': <true>, 'reboot': <false>})",
            ],
        );
        assert_eq!(code, 0, "{ev:?}");
        let title = ev.iter().find(|e| e["name"] == "Title").unwrap();
        assert_eq!(title["value"], "new-deployment");
        let rpm_requests = |s: &Served| s.requests().iter().filter(|r| r.ends_with(".rpm")).count();
        assert_eq!(rpm_requests(served), 1);
        // No script, root's files only: laid over the base without a
        // checkout; the tree is the base's plus the file, and the new rpmdb.
        let layered = dict_str(&deployments(bed)[0], "checksum").unwrap();
        assert_eq!(
            ostree_repo(bed, &["diff", &bed.world("CSUM_V1"), &layered]),
            "M    /usr/share/rpm/rpmdb.sqlite\nA    /usr/bin/tp-tool\n"
        );
        // Upgrade: v2 with tp-tool on it; tp-tool not downloaded again.
        bed.set_head(2);
        ok(bed, &["upgrade"]);
        let all = deployments(bed);
        assert_eq!(
            dict_str(&all[0], "base-checksum"),
            Some(bed.world("CSUM_V2"))
        );
        assert_eq!(
            all[0]["packages"].get::<Vec<String>>().unwrap(),
            ["tp-tool"]
        );
        assert!(rpm_qa(&root_of(bed, &all[0])).contains(&"tp-tool-1.0-1.noarch".to_string()));
        assert!(rpm_qa(&root_of(bed, &all[0])).contains(&"tp-base-new-1.0-1.noarch".to_string()));
        assert_eq!(rpm_requests(served), 1);
        // Nothing new: no new deployment.
        let out = ok(bed, &["upgrade"]);
        assert!(out.contains("No upgrade available."), "{out}");
        // Uninstalled and installed again without the network: the
        // previous deployment keeps the pkgcache, the metadata is cached.
        ok(bed, &["uninstall", "tp-tool"]);
        let n = served.requests().len();
        ok(bed, &["install", "-C", "tp-tool"]);
        assert_eq!(served.requests().len(), n, "{:?}", &served.requests()[n..]);
        // Rebase keeps it too.
        ok(bed, &["rebase", "testos/other/x86_64"]);
        let all = deployments(bed);
        assert_eq!(
            dict_str(&all[0], "base-checksum"),
            Some(bed.world("CSUM_OTHER"))
        );
        assert_eq!(
            all[0]["packages"].get::<Vec<String>>().unwrap(),
            ["tp-tool"]
        );
        assert!(root_of(bed, &all[0]).join("usr/bin/tp-tool").is_file());
        fsck(bed);
    });
}

#[test]
fn cancel_and_a_killed_daemon_end_a_layering_cleanly() {
    with_repo(Options::default(), &["tp-slow-1.0-1"], |bed, _| {
        let before = snapshot(bed);
        let tmp = bed.sysroot().join("ostree/repo/tmp");
        // The script itself (the shell inside the sandbox), not bwrap still
        // setting the sandbox up, whose own argv names the script too.
        let script_running = |daemon: i32| {
            iterate_until(DEADLINE, || {
                descendants_of(daemon)
                    .into_iter()
                    .any(|p| cmdline_of(p).starts_with("/bin/sh /run/rpm-ostree-script"))
            })
        };
        let args = {
            let opts = glib::VariantDict::new(None).end();
            glib::Variant::tuple_from_iter([
                opts,
                vec!["tp-slow".to_string()].to_variant(),
                Vec::<String>::new().to_variant(),
            ])
        };
        // Cancel while %post runs.
        let a = start_call(&bed.conn, OS_PATH, "PkgChange", &args).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        assert!(
            script_running(bed.daemon_pid().unwrap()),
            "no script running"
        );
        t.cancel_within_5s();
        drop(t);
        assert!(bed.wait_idle());
        assert_eq!(snapshot(bed), before);
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mounts.contains(&tmp.display().to_string()), "{mounts}");
        // The daemon killed while %post runs: the next daemon sweeps up.
        let a = start_call(&bed.conn, OS_PATH, "PkgChange", &args).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        let daemon = bed.daemon_pid().unwrap();
        assert!(script_running(daemon), "no script running");
        let helpers = descendants_of(daemon);
        bed.kill_daemon(libc::SIGKILL);
        assert_all_exit(&helpers, "the daemon");
        drop(t);
        bed.start_daemon();
        assert_eq!(snapshot(bed), before);
        // The next layering sweeps what the killed one left.
        let err = fails(bed, &["install", "tp-nope"]);
        assert!(err.contains("Packages not found: tp-nope"), "{err}");
        no_layer_workdirs(bed);
        fsck(bed);
    });
}

#[test]
fn packages_of_a_gpgcheck_repo_must_be_signed_by_its_keys() {
    with_bed(Options::default(), |bed| {
        let dir = bed.tb.join("signed");
        let signed = signed_rpm(bed, "tp-tool-1.0-1", &dir.join("in"));
        let repo = dir.join("repo");
        run_ok(
            Command::new(common::testbed("rpms/mkrepo.sh"))
                .arg(&repo)
                .arg(&signed)
                .arg(rpm(bed, "tp-lib-1.0-1")),
        );
        let served = serve(bed, &repo, &[]);
        let (_, key) = signing_key(bed);
        let section = repo_section("tp-signed", &served.url(), "").replace(
            "gpgcheck=0",
            &format!("gpgcheck=1\ngpgkey=file://{}", key.display()),
        );
        write_repo_file(bed, "signed.repo", &section);
        let before = snapshot(bed);
        let err = fails(bed, &["install", "tp-lib"]);
        assert!(
            err.contains(
                "Package tp-lib-1.0-1.noarch cannot be verified and repo 'tp-signed' is GPG enabled"
            ),
            "{err}"
        );
        assert_eq!(snapshot(bed), before);
        assert!(pkgcache_refs(bed).is_empty());
        ok(bed, &["install", "tp-tool"]);
        let all = deployments(bed);
        assert_eq!(
            all[0]["packages"].get::<Vec<String>>().unwrap(),
            ["tp-tool"]
        );
        fsck(bed);
    });
}

#[test]
fn reset_goes_back_to_the_pure_base_keeping_what_is_not_named() {
    with_repo(Options::default(), APP, |bed, _| {
        let v1 = bed.world("CSUM_V1");
        ok(bed, &["install", "tp-tool"]);
        ok(bed, &["initramfs", "--enable", "--arg=-I", "--arg=/etc/x"]);
        let d = &deployments(bed)[0];
        assert_eq!(d["regenerate-initramfs"].get::<bool>(), Some(true));
        // -i: the initramfs state goes, the layer stays.
        ok(bed, &["reset", "-i"]);
        let d = &deployments(bed)[0];
        assert_eq!(d["regenerate-initramfs"].get::<bool>(), Some(false));
        assert_eq!(d["packages"].get::<Vec<String>>().unwrap(), ["tp-tool"]);
        // Nothing named: everything goes; the base commit itself is deployed.
        ok(bed, &["reset"]);
        let d = &deployments(bed)[0];
        assert_eq!(dict_str(d, "checksum"), Some(v1));
        assert!(
            d["requested-packages"]
                .get::<Vec<String>>()
                .unwrap()
                .is_empty()
        );
        // Again: nothing to reset.
        let out = ok(bed, &["reset"]);
        assert!(out.contains("No change."), "{out}");
        fsck(bed);
    });
}

#[test]
fn override_remove_takes_a_base_package_out_and_reset_brings_it_back() {
    with_repo(Options::default(), APP, |bed, _| {
        let v1 = bed.world("CSUM_V1");
        let before = snapshot(bed);
        let err = fails(bed, &["override", "remove", "tp-nope"]);
        assert!(err.contains("Package \"tp-nope\" not found"), "{err}");
        assert_eq!(snapshot(bed), before);
        let out = ok(bed, &["override", "remove", "tp-base-b"]);
        assert!(
            out.contains("Use \"rpm-ostree override reset\" to undo overrides"),
            "{out}"
        );
        let d = &deployments(bed)[0];
        assert_eq!(dict_str(d, "base-checksum"), Some(v1.clone()));
        assert_eq!(
            d["requested-base-removals"].get::<Vec<String>>().unwrap(),
            ["tp-base-b"]
        );
        let removals = &d["base-removals"];
        assert_eq!(removals.n_children(), 1);
        let t = removals.child_value(0).as_variant().unwrap();
        assert_eq!(t.child_value(0).str(), Some("tp-base-b-2.0-1.noarch"));
        let root = root_of(bed, d);
        let qa = rpm_qa(&root);
        assert!(!qa.iter().any(|p| p.starts_with("tp-base-b-")), "{qa:?}");
        // Its files and its own directory are gone; the base keeps them.
        assert!(!root.join("usr/share/tp-base-b").exists());
        assert!(root.join("usr/share/tp-base-a/version").is_file());
        let base_root = bed
            .sysroot()
            .join(format!("ostree/deploy/testos/deploy/{v1}.0"));
        assert!(base_root.join("usr/share/tp-base-b/version").is_file());
        assert!(qa.contains(&"tp-base-a-1.0-1.noarch".to_string()), "{qa:?}");
        let status = ok(bed, &["status"]);
        assert!(
            status.contains("      RemovedBasePackages: tp-base-b 2.0-1\n"),
            "{status}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&ok(bed, &["status", "--json"])).unwrap();
        assert_eq!(
            json["deployments"][0]["base-removals"][0][0],
            "tp-base-b-2.0-1.noarch"
        );
        assert!(
            fails(bed, &["override", "remove", "tp-base-b"])
                .contains("Override already exists for package 'tp-base-b'")
        );
        // Reset: the base again, the package back in the rpmdb.
        assert!(
            fails(bed, &["override", "reset", "tp-base-a"])
                .contains("No overrides for package 'tp-base-a'")
        );
        ok(bed, &["override", "reset", "tp-base-b"]);
        let d = &deployments(bed)[0];
        assert_eq!(dict_str(d, "checksum"), Some(v1.clone()));
        assert_eq!(d["base-removals"].n_children(), 0);
        // With a layered package that has scripts (a checkout), then
        // `reset --all`.
        ok(bed, &["install", "tp-app"]);
        ok(bed, &["override", "remove", "tp-base-a"]);
        let root = root_of(bed, &deployments(bed)[0]);
        assert!(!root.join("usr/share/tp-base-a").exists());
        assert!(root.join("usr/bin/tp-app").is_file());
        assert!(!rpm_qa(&root).iter().any(|p| p.starts_with("tp-base-a-")));
        ok(bed, &["override", "reset", "--all"]);
        let d = &deployments(bed)[0];
        assert_eq!(d["base-removals"].n_children(), 0);
        assert!(
            root_of(bed, d)
                .join("usr/share/tp-base-a/version")
                .is_file()
        );
        ok(bed, &["uninstall", "tp-app"]);
        assert_eq!(dict_str(&deployments(bed)[0], "checksum"), Some(v1));
        fsck(bed);
    });
}

#[test]
fn removing_what_a_layered_package_needs_is_refused() {
    with_repo(Options::default(), APP, |bed, _| {
        ok(bed, &["install", "tp-app"]);
        let before = snapshot(bed);
        // tp-base-core provides /bin/sh, which tp-app's scripts need.
        let err = fails(bed, &["override", "remove", "tp-base-core"]);
        assert!(
            err.contains(
                "package tp-app-1.0-1.noarch requires /bin/sh, but none of the providers \
                 can be installed"
            ),
            "{err}"
        );
        assert_eq!(snapshot(bed), before);
        fsck(bed);
    });
}

#[test]
fn a_removal_the_new_base_makes_moot_is_kept_inactive() {
    with_repo(Options::default(), APP, |bed, _| {
        ok(bed, &["override", "remove", "tp-base-gone"]);
        // v2 has no tp-base-gone: the upgrade goes on, the request stays.
        bed.set_head(2);
        ok(bed, &["upgrade"]);
        let d = &deployments(bed)[0];
        assert_eq!(
            dict_str(d, "base-checksum").or_else(|| dict_str(d, "checksum")),
            Some(bed.world("CSUM_V2"))
        );
        assert_eq!(
            d["requested-base-removals"].get::<Vec<String>>().unwrap(),
            ["tp-base-gone"]
        );
        assert_eq!(d["base-removals"].n_children(), 0);
        fsck(bed);
    });
}
