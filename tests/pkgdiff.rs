//! Package databases and package diffs: `rpm-ostree db diff|list|version`,
//! the `*RpmDiff` methods, the `rpm-diff` of the cached update, and what the
//! CLI prints about package changes, on trees whose rpm databases differ in
//! all four ways (tests/testbed/rpms). `rpm -qa` on checkouts is the oracle.

mod common;

use common::*;
use glib::prelude::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn repo(bed: &Bed) -> String {
    bed.sysroot().join("ostree/repo").display().to_string()
}

/// `rpm-ostree db ARGS -r REPO` (the repository option before the revisions).
fn db(bed: &Bed, args: &[&str]) -> (i32, String, String) {
    let bin = bed.bin();
    let mut argv = vec![bin.as_str(), "db"];
    argv.extend_from_slice(&args[..1]);
    let r = repo(bed);
    argv.extend_from_slice(&["-r", r.as_str()]);
    argv.extend_from_slice(&args[1..]);
    run(&mut bed.command(&argv))
}

fn pull(bed: &Bed, csum: &str) {
    run_ok(Command::new("ostree").args([
        &format!("--repo={}", repo(bed)),
        "pull",
        "testremote",
        csum,
    ]));
}

/// What `rpm -qa` says the commit's tree holds: `name-[epoch:]version-release.arch`.
fn rpm_qa(bed: &Bed, csum: &str) -> BTreeSet<String> {
    let co = bed.sysroot().join(format!("co-{csum}"));
    run_ok(Command::new("ostree").args([
        &format!("--repo={}", repo(bed)),
        "checkout",
        "-U",
        csum,
        &co.display().to_string(),
    ]));
    let out = run_ok(Command::new("rpm").args([
        "-qa",
        "--root",
        &co.display().to_string(),
        "--dbpath",
        "/usr/share/rpm",
        "--qf",
        "%{NAME}-%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}.%{ARCH}\\n",
    ]));
    std::fs::remove_dir_all(&co).unwrap();
    out.lines().map(String::from).collect()
}

/// A commit of a small tree in the sysroot's repository; `files` are
/// (path, contents) under the tree.
fn local_commit(bed: &Bed, branch: &str, files: &[(&str, &[u8])]) -> String {
    let dir = bed.sysroot().join(format!("tree-{branch}"));
    std::fs::create_dir_all(dir.join("usr/bin")).unwrap();
    for (path, data) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    let out = run_ok(Command::new("ostree").args([
        &format!("--repo={}", repo(bed)),
        "commit",
        &format!("--branch={branch}"),
        &format!("--tree=dir={}", dir.display()),
    ]));
    std::fs::remove_dir_all(&dir).unwrap();
    out.trim().to_string()
}

const V1_TO_V3_BLOCK: &str = "Upgraded:\n  tp-base-a 1.0-1 -> 2.0-1\n  tp-base-tilde 2.0~rc1-1 -> 2.0-1\n\
     Downgraded:\n  tp-base-b 2.0-1 -> 1.5-1\nRemoved:\n  tp-base-gone-1.0-1.noarch\n\
     Added:\n  tp-base-new-1.0-1.noarch\n";

#[test]
fn db_diff_list_and_version_match_rpm() {
    with_bed(Options::default(), |bed| {
        let (v1, v2, v3) = (
            bed.world("CSUM_V1"),
            bed.world("CSUM_V2"),
            bed.world("CSUM_V3"),
        );
        pull(bed, &v2);
        pull(bed, "testos/stable/x86_64"); // the branch, to v3

        // db list is rpm -qa.
        for c in [&v1, &v2, &v3] {
            let (code, out, err) = db(bed, &["list", c]);
            assert_eq!(code, 0, "{err}");
            let mut lines = out.lines();
            assert_eq!(lines.next(), Some(format!("ostree commit: {c}").as_str()));
            let listed: BTreeSet<String> = lines.map(|l| l.trim_start().to_string()).collect();
            assert_eq!(listed, rpm_qa(bed, c), "{c}");
        }
        // An archive repository (compressed objects, read as a stream) gives
        // the same list as the bare one (whose object files sqlite opens).
        let (code, out, err) = run(&mut bed.command(&[
            bed.bin().as_str(),
            "db",
            "list",
            "-r",
            &bed.world("REMOTE"),
            &v3,
        ]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, db(bed, &["list", &v3]).1);
        // A reader that has gone: the end of a C tool (status 141), no panic.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let r = repo(bed);
        let out = bed
            .command(&[bed.bin().as_str(), "db", "list", "-r", &r, &v3])
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(141));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        // Patterns: case-insensitive globs on the name (and other forms).
        let (_, out, _) = db(bed, &["list", &v3, "TP-BASE-[ab]*", "tp-base-new-1.0-1"]);
        assert_eq!(
            out,
            format!(
                "ostree commit: {v3}\n tp-base-a-2.0-1.noarch\n tp-base-b-1.5-1.noarch\n tp-base-new-1.0-1.noarch\n"
            )
        );
        // Block format: all four kinds, in rpm's version order (2.0~rc1 < 2.0).
        let (code, out, err) = db(bed, &["diff", &v1, &v3]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            format!(
                "ostree diff commit from: {v1}\nostree diff commit to:   {v3}\n{V1_TO_V3_BLOCK}"
            )
        );
        // Against the oracle: the two rpm -qa sets differ in exactly these names.
        let (a, b) = (rpm_qa(bed, &v1), rpm_qa(bed, &v3));
        let changed: BTreeSet<_> = a.symmetric_difference(&b).cloned().collect();
        assert_eq!(changed.len(), 8, "{changed:?}");
        // Diff format.
        let (_, out, _) = db(bed, &["diff", "--format=diff", &v1, &v3]);
        assert!(out.ends_with(
            "!tp-base-a-1.0-1.noarch\n=tp-base-a-2.0-1.noarch\n!tp-base-b-2.0-1.noarch\n=tp-base-b-1.5-1.noarch\n\
             -tp-base-gone-1.0-1.noarch\n+tp-base-new-1.0-1.noarch\n!tp-base-tilde-2.0~rc1-1.noarch\n=tp-base-tilde-2.0-1.noarch\n"
        ), "{out}");
        // JSON: the a(sua{sv}) of the D-Bus methods.
        let (_, out, _) = db(
            bed,
            &["diff", "-F", "json", "testremote:testos/stable/x86_64", &v2],
        );
        let j: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(j["ostree-commit-from"], v3.as_str());
        assert_eq!(j["ostree-commit-to"], v2.as_str());
        let kinds: Vec<(String, u64)> = j["pkgdiff"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].as_str().unwrap().to_string(), e[1].as_u64().unwrap()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("tp-base-b".to_string(), 2),
                ("tp-base-tilde".to_string(), 3)
            ]
        );
        assert_eq!(
            j["pkgdiff"][0][2]["PreviousPackage"],
            serde_json::json!(["tp-base-b", "1.5-1", "noarch"])
        );
        // --changelogs: the new entries of each upgrade, from the rpm databases.
        let (code, out, err) = db(bed, &["diff", "--changelogs", &v1, &v2]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            format!(
                "ostree diff commit from: {v1}\nostree diff commit to:   {v2}\nUpgraded:\n  \
                 tp-base-a 1.0-1.noarch -> 2.0-1.noarch\n    \
                 * Thu Feb 01 2024 Test Bed <tb@example.com> - 2.0-1\n    \
                 - Adds the changes file\n    - Second line\n      continued\n\n\
                 Removed:\n  tp-base-gone-1.0-1.noarch\nAdded:\n  tp-base-new-1.0-1.noarch\n"
            )
        );
        // No changes: headers only.
        let (code, out, _) = db(bed, &["diff", &v1, &v1]);
        assert_eq!((code, out.lines().count()), (0, 2));
        // db version.
        let (_, out, _) = db(bed, &["version", &v1]);
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some(format!("ostree commit: {v1}").as_str()));
        let v = lines.next().unwrap();
        assert!(v.starts_with("  rpmdbv is: 6:"), "{v}");
        assert_eq!(v.len(), "  rpmdbv is: ".len() + 66);
        // Usage errors.
        let (code, _, err) = db(bed, &["diff", "-F", "yaml", &v1, &v2]);
        assert_eq!(code, 1);
        assert_eq!(
            err.trim(),
            "error: usage error: Format argument is invalid, pick one of: diff, block, json"
        );
        let (code, _, err) = db(bed, &["diff", "-F", "json", "-c", &v1, &v2]);
        assert_eq!(
            (code, err.trim()),
            (
                1,
                "error: usage error: json format and --changelogs not supported"
            )
        );
        let (code, _, err) = db(bed, &["diff", &v1, &v2, &v3]);
        assert_eq!(
            (code, err.trim()),
            (
                1,
                "error: usage error: \"rpm-ostree db diff\" takes at most 2 arguments"
            )
        );
    });
}

#[test]
fn databases_that_cannot_be_read_are_clear_errors() {
    with_bed(Options::default(), |bed| {
        let v1 = bed.world("CSUM_V1");
        let none = local_commit(bed, "test/none", &[("usr/bin/x", b"x")]);
        let bad = local_commit(
            bed,
            "test/bad",
            &[("usr/share/rpm/rpmdb.sqlite", b"this is not sqlite")],
        );
        let bdb = local_commit(bed, "test/bdb", &[("usr/share/rpm/Packages", b"\0\0\0\0")]);
        let (code, _, err) = db(bed, &["diff", &v1, &none]);
        assert_eq!(code, 1);
        assert!(
            err.contains(&format!(
                "Loading package list: No package database found in commit {none}"
            )),
            "{err}"
        );
        let (code, _, err) = db(bed, &["list", &bad]);
        assert_eq!(code, 1);
        assert!(err.contains("Reading the rpm database of commit"), "{err}");
        let (code, _, err) = db(bed, &["list", &bdb]);
        assert_eq!(code, 1);
        assert!(
            err.contains("(usr/share/rpm/Packages) is in Berkeley DB (bdb) format; only sqlite rpm databases can be read"),
            "{err}"
        );
        // Through the daemon: an error reply, and the daemon goes on.
        for c in [&none, &bad, &bdb] {
            let e = call(
                &bed.conn,
                OS_PATH,
                IFACE_OS,
                "GetCachedDeployRpmDiff",
                Some(&(format!("revision={c}"), Vec::<String>::new()).to_variant()),
            )
            .unwrap_err();
            assert!(error_message(&e).contains("Loading package list"), "{e}");
        }
        assert!(bed.daemon_pid().is_some());
        let d = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "GetCachedDeployRpmDiff",
            Some(&(format!("revision={v1}"), Vec::<String>::new()).to_variant()),
        )
        .unwrap();
        assert_eq!(d.child_value(0).n_children(), 0);
    });
}

fn diff_names(v: &glib::Variant) -> Vec<(String, u32)> {
    v.iter()
        .map(|e| {
            (
                e.child_value(0).get().unwrap(),
                e.child_value(1).get().unwrap(),
            )
        })
        .collect()
}

fn bus_diff_methods(booted: bool) {
    let opts = Options {
        booted,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let v3 = bed.world("CSUM_V3");
        let no_pkgs = Vec::<String>::new();
        // Nothing pulled yet: the local branch is still the deployed v1.
        let r = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "GetCachedUpdateRpmDiff",
            Some(&("",).to_variant()),
        )
        .unwrap();
        assert_eq!(r.child_value(0).n_children(), 0);
        let details: Dict = r.child_value(1).get().unwrap();
        assert_eq!(dict_str(&details, "checksum"), Some(bed.world("CSUM_V1")));
        // DownloadUpdateRpmDiff pulls the commit and its rpmdb, not the tree.
        let (code, ev) = bed.txn_client(
            None,
            &[
                "--bus-call",
                OS_PATH,
                IFACE_OS,
                "DownloadUpdateRpmDiff",
                "()",
            ],
        );
        assert_eq!(code, 0, "{ev:?}");
        let title = ev.iter().find(|e| e["name"] == "Title").unwrap();
        assert_eq!(title["value"], "package-diff");
        let r = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "GetCachedUpdateRpmDiff",
            Some(&("",).to_variant()),
        )
        .unwrap();
        assert_eq!(r.type_().as_str(), "(a(sua{sv})a{sv})");
        assert_eq!(
            diff_names(&r.child_value(0)),
            [
                ("tp-base-new".to_string(), 0),
                ("tp-base-gone".to_string(), 1),
                ("tp-base-a".to_string(), 2),
                ("tp-base-tilde".to_string(), 2),
                ("tp-base-b".to_string(), 3)
            ]
        );
        let details: Dict = r.child_value(1).get().unwrap();
        assert_eq!(dict_str(&details, "checksum"), Some(v3.clone()));
        assert_eq!(dict_str(&details, "version").as_deref(), Some("3"));
        assert_eq!(
            dict_str(&details, "origin").as_deref(),
            Some("testremote:testos/stable/x86_64")
        );
        assert_eq!(details["gpg-enabled"].get::<bool>(), Some(false));
        // The tree itself was not pulled: only its rpmdb.
        let partial = bed
            .sysroot()
            .join(format!("ostree/repo/state/{v3}.commitpartial"));
        assert!(partial.exists(), "a partial commit");
        // The cached update of a booted system has the rpm-diff too.
        let os = bed.os_props();
        let cached: Dict = os["CachedUpdate"].get().unwrap_or_default();
        if booted {
            let rd = glib::VariantDict::new(Some(&cached["rpm-diff"]));
            let up = rd.lookup_value("upgraded", None).unwrap();
            assert_eq!(up.type_().as_str(), "a(us(ss)(ss))");
            assert_eq!(
                up.child_value(0).print(false).as_str(),
                "(0, 'tp-base-a', ('1.0-1', 'noarch'), ('2.0-1', 'noarch'))"
            );
            assert_eq!(rd.lookup_value("added", None).unwrap().n_children(), 1);
        } else {
            assert!(cached.is_empty(), "no cached update offline");
        }
        // Rebase and deploy previews.
        let (code, ev) = bed.txn_client(
            None,
            &[
                "--bus-call",
                OS_PATH,
                IFACE_OS,
                "DownloadDeployRpmDiff",
                "('version=2', @as [])",
            ],
        );
        assert_eq!(code, 0, "{ev:?}");
        let r = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "GetCachedDeployRpmDiff",
            Some(&("2", no_pkgs.clone()).to_variant()),
        )
        .unwrap();
        assert_eq!(
            diff_names(&r.child_value(0)),
            [
                ("tp-base-new".to_string(), 0),
                ("tp-base-gone".to_string(), 1),
                ("tp-base-a".to_string(), 2)
            ]
        );
        let (code, ev) = bed.txn_client(
            None,
            &[
                "--bus-call",
                OS_PATH,
                IFACE_OS,
                "DownloadRebaseRpmDiff",
                "('testos/other/x86_64', @as [])",
            ],
        );
        assert_eq!(code, 0, "{ev:?}");
        let r = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "GetCachedRebaseRpmDiff",
            Some(&("testos/other/x86_64", no_pkgs.clone()).to_variant()),
        )
        .unwrap();
        assert_eq!(
            r.child_value(0).n_children(),
            0,
            "other-1 has v1's packages"
        );
        let details: Dict = r.child_value(1).get().unwrap();
        assert_eq!(
            dict_str(&details, "origin").as_deref(),
            Some("testremote:testos/other/x86_64")
        );
        // Bad input, each with its text; the daemon stays.
        let err = |method: &str, args: glib::Variant| {
            let e = call(&bed.conn, OS_PATH, IFACE_OS, method, Some(&args)).unwrap_err();
            (error_name(&e), error_message(&e))
        };
        let id = dict_str(
            &bed.os_props()["BootedDeployment"]
                .get::<Dict>()
                .unwrap_or_default(),
            "id",
        )
        .unwrap_or_else(|| {
            let d: Vec<Dict> = bed.sysroot_props()["Deployments"].get().unwrap();
            dict_str(&d[0], "id").unwrap()
        });
        assert_eq!(
            err("GetDeploymentsRpmDiff", ("", id.as_str()).to_variant()).1,
            "empty deployment ID"
        );
        assert_eq!(
            err(
                "GetDeploymentsRpmDiff",
                (id.as_str(), "testos-nope.0").to_variant()
            )
            .1,
            "Deployment with id 'testos-nope.0' not found"
        );
        assert_eq!(
            err("GetCachedDeployRpmDiff", ("", no_pkgs.clone()).to_variant()).1,
            "Missing revision"
        );
        assert_eq!(
            err(
                "GetCachedDeployRpmDiff",
                ("9", no_pkgs.clone()).to_variant()
            )
            .1,
            "Version 9 not cached in testremote:testos/stable/x86_64"
        );
        let (name, _) = err(
            "GetCachedRebaseRpmDiff",
            ("remote:bad ref", no_pkgs.clone()).to_variant(),
        );
        assert_eq!(name, "org.projectatomic.rpmostreed.Error.InvalidRefspec");
        assert_eq!(
            err("GetCachedUpdateRpmDiff", ("testos-nope.0",).to_variant()).1,
            "Deployment with id 'testos-nope.0' not found"
        );
        // A self-diff of one deployment is empty.
        let r = call(
            &bed.conn,
            OS_PATH,
            IFACE_OS,
            "GetDeploymentsRpmDiff",
            Some(&(id.as_str(), id.as_str()).to_variant()),
        )
        .unwrap();
        assert_eq!(r.type_().as_str(), "(a(sua{sv}))");
        assert_eq!(r.child_value(0).n_children(), 0);
    });
}

#[test]
fn bus_diff_methods_offline() {
    bus_diff_methods(false);
}

#[test]
fn bus_diff_methods_booted() {
    bus_diff_methods(true);
}

#[test]
fn the_cli_shows_package_changes() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            let ok = |args: &[&str]| {
                let (code, out, err) = bed.cli(args);
                assert_eq!(code, 0, "{args:?}: {out}{err}");
                out
            };
            // upgrade --check: the available update with its Diff summary.
            let out = ok(&["upgrade", "--check"]);
            assert!(out.contains("AvailableUpdate:\n"), "{out}");
            assert!(
                out.contains("\n           Diff: 2 upgraded, 1 downgraded, 1 removed, 1 added\n"),
                "{out}"
            );
            // --preview: the packages.
            let out = ok(&["upgrade", "--preview"]);
            assert!(
                out.contains(
                    "       Upgraded: tp-base-a 1.0-1 -> 2.0-1\n                 tp-base-tilde 2.0~rc1-1 -> 2.0-1\n     Downgraded: tp-base-b 2.0-1 -> 1.5-1\n        Removed: tp-base-gone-1.0-1.noarch\n          Added: tp-base-new-1.0-1.noarch\n"
                ),
                "{out}"
            );
            // deploy --preview: +/-/!/= lines.
            // (after the transaction's progress lines).
            let out = ok(&["deploy", "--preview", "version=2"]);
            assert!(
                out.ends_with("\n!tp-base-a-1.0-1-noarch\n=tp-base-a-2.0-1-noarch\n-tp-base-gone-1.0-1-noarch\n+tp-base-new-1.0-1-noarch\n"),
                "{out}"
            );
            let (code, _, _) =
                bed.cli(&["deploy", "--preview", "--unchanged-exit-77", "version=1"]);
            assert_eq!(code, 77);
            // The upgrade itself prints the diff of the new deployment.
            bed.set_head(2);
            let out = ok(&["upgrade"]);
            assert!(
                out.contains(
                    "Upgraded:\n  tp-base-a 1.0-1 -> 2.0-1\nRemoved:\n  tp-base-gone-1.0-1.noarch\nAdded:\n  tp-base-new-1.0-1.noarch\nRun \"systemctl reboot\" to start a reboot\n"
                ),
                "{out}"
            );
            // status: the pending deployment's Diff line.
            let out = ok(&["status"]);
            assert!(
                out.contains("                     Diff: 1 upgraded, 1 removed, 1 added\n"),
                "{out}"
            );
            let out = ok(&["status", "-v"]);
            assert!(
                out.contains("                 Upgraded: tp-base-a 1.0-1 -> 2.0-1\n"),
                "{out}"
            );
            // As any user: status reads the repository, no authorization needed.
            let (code, out, err) = bed.cli_as(Some("nobody"), &["status"]);
            assert_eq!(code, 0, "{err}");
            assert!(
                out.contains("Diff: 1 upgraded, 1 removed, 1 added"),
                "{out}"
            );
        },
    );
}
