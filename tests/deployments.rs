//! Deployments over libostree: upgrade, deploy, rebase, signatures, automatic
//! update checks, staging and finalization, and every bad-input case leaving
//! the sysroot exactly as it was. Booted and offline.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

/// Runs a transaction through the gio client (the GNOME Software flow):
/// (exit code, events).
fn txn(bed: &Bed, method: &str, args: &str) -> (i32, Vec<Value>) {
    bed.txn_client(None, &["--bus-call", OS_PATH, IFACE_OS, method, args])
}

fn finished(events: &[Value]) -> (bool, String) {
    let f = events
        .iter()
        .find(|e| e["event"] == "finished")
        .unwrap_or_else(|| panic!("no Finished: {events:?}"));
    (
        f["success"].as_bool().unwrap(),
        f["message"].as_str().unwrap().to_string(),
    )
}

fn signals<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event"] == "signal" && e["name"] == name)
        .collect()
}

/// Everything a failed operation must leave untouched: deployments, refs, origins.
fn snapshot(bed: &Bed) -> String {
    let repo = bed.sysroot().join("ostree/repo");
    let mut s = bed.ostree(&["admin", "status"]);
    s += &run_ok(
        Command::new("ostree")
            .arg(format!("--repo={}", repo.display()))
            .arg("refs"),
    );
    let deploy = bed.sysroot().join("ostree/deploy/testos/deploy");
    let mut origins: Vec<_> = std::fs::read_dir(&deploy)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".origin"))
        .map(|e| e.path())
        .collect();
    origins.sort();
    for o in origins {
        s += &std::fs::read_to_string(o).unwrap();
    }
    s
}

fn default_deployment(bed: &Bed) -> Dict {
    bed.os_props()["DefaultDeployment"].get().unwrap()
}

fn upgrade_to_2_with_progress(booted: bool) {
    let opts = Options {
        booted,
        http_delay_ms: Some(20),
        ..Default::default()
    };
    with_bed(opts, |bed| {
        // Follow the same branch over HTTP, from a remote that takes its time.
        bed.add_http_remote("slow");
        bed.set_head(1);
        let (code, ev) = txn(
            bed,
            "Rebase",
            "(@a{sv} {}, 'slow:testos/stable/x86_64', @as [])",
        );
        assert_eq!(code, 0, "{ev:?}");
        bed.set_head(2);
        let (code, ev) = txn(bed, "Upgrade", "(@a{sv} {},)");
        assert_eq!(code, 0, "{ev:?}");
        let progress = signals(&ev, "DownloadProgress");
        assert!(!progress.is_empty(), "{ev:?}");
        let last = progress.last().unwrap()["args"].as_array().unwrap();
        assert_eq!(last.len(), 6, "six tuples");
        let content = last[4].as_array().unwrap();
        assert!(
            content[0].as_u64().unwrap() > 0,
            "fetched objects: {last:?}"
        );
        assert!(!signals(&ev, "ProgressEnd").is_empty());
        let d = default_deployment(bed);
        assert_eq!(dict_str(&d, "checksum"), Some(bed.world("CSUM_V2")));
        assert_eq!(
            dict_str(&d, "origin").as_deref(),
            Some("slow:testos/stable/x86_64")
        );
        assert_eq!(
            d["staged"].get::<bool>(),
            Some(booted),
            "staged when booted"
        );
        let log = bed.daemon_log();
        assert!(
            log.contains("Created new deployment /ostree/deploy/testos/deploy/"),
            "{log}"
        );
        // Nothing new: "No upgrade available."
        let (code, ev) = txn(bed, "Upgrade", "(@a{sv} {},)");
        assert_eq!(code, 0);
        assert!(
            signals(&ev, "Message")
                .iter()
                .any(|m| m["args"][0] == "No upgrade available."),
            "{ev:?}"
        );
    });
}

#[test]
fn upgrade_offline() {
    upgrade_to_2_with_progress(false);
}

#[test]
fn upgrade_booted_stages() {
    upgrade_to_2_with_progress(true);
}

#[test]
fn downgrades_need_allow_downgrade_for_upgrade_but_not_for_deploy() {
    with_bed(Options::default(), |bed| {
        bed.set_head(2);
        assert_eq!(txn(bed, "Upgrade", "(@a{sv} {},)").0, 0);
        // The remote goes back to 1: Upgrade refuses the older commit.
        bed.set_head(1);
        let before = bed.ostree(&["admin", "status"]);
        let (code, ev) = txn(bed, "Upgrade", "(@a{sv} {},)");
        assert_eq!(code, 1);
        let (_, msg) = finished(&ev);
        assert!(
            msg.starts_with("While checking against deployment timestamp: Upgrade target revision")
                && msg.contains("is chronologically older than current revision")
                && msg.ends_with("use --allow-downgrade to permit"),
            "{msg}"
        );
        assert_eq!(bed.ostree(&["admin", "status"]), before);
        // Deploy version=1 is allowed by default, and pins the origin.
        bed.set_head(3);
        let (code, ev) = txn(bed, "Deploy", "('version=1', @a{sv} {})");
        assert_eq!(code, 0, "{ev:?}");
        assert!(
            signals(&ev, "Message")
                .iter()
                .any(|m| m["args"][0] == "Resolving version '1'")
        );
        let d = default_deployment(bed);
        assert_eq!(dict_str(&d, "checksum"), Some(bed.world("CSUM_V1")));
        let origin = std::fs::read_to_string(
            bed.sysroot()
                .join("ostree/deploy/testos/deploy")
                .join(format!("{}.1.origin", bed.world("CSUM_V1"))),
        )
        .unwrap();
        assert!(
            origin.contains(&format!("override-commit={}", bed.world("CSUM_V1"))),
            "{origin}"
        );
        // Deploying what is already deployed: "No change."
        let (code, ev) = txn(bed, "Deploy", "('version=1', @a{sv} {})");
        assert_eq!(code, 0);
        assert!(
            signals(&ev, "Message")
                .iter()
                .any(|m| m["args"][0] == "No change."),
            "{ev:?}"
        );
        // With allow-downgrade: false, Deploy refuses the older version 1 -> ...
        let (code, _) = txn(bed, "Deploy", "('version=2', {'allow-downgrade': <false>})");
        assert_eq!(code, 0, "2 is newer than 1");
        let (code, ev) = txn(bed, "Deploy", "('version=1', {'allow-downgrade': <false>})");
        assert_eq!(code, 1);
        assert!(finished(&ev).1.contains("is chronologically older"));
    });
}

#[test]
fn rebase_to_another_ref_and_another_remote() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            // Another ref on the same remote (partial refspec inherits the remote).
            let (code, ev) = txn(bed, "Rebase", "(@a{sv} {}, 'testos/other/x86_64', @as [])");
            assert_eq!(code, 0, "{ev:?}");
            let d = default_deployment(bed);
            assert_eq!(
                dict_str(&d, "origin").as_deref(),
                Some("testremote:testos/other/x86_64")
            );
            assert_eq!(dict_str(&d, "checksum"), Some(bed.world("CSUM_OTHER")));
            // The old ref was pruned (no skip-purge).
            let refs = run_ok(
                Command::new("ostree")
                    .arg(format!(
                        "--repo={}",
                        bed.sysroot().join("ostree/repo").display()
                    ))
                    .arg("refs"),
            );
            assert!(!refs.contains("testremote:testos/stable/x86_64"), "{refs}");
            // Another remote, same branch name: `remote:`.
            let (code, ev) = txn(bed, "Rebase", "(@a{sv} {}, 'otherremote:', @as [])");
            assert_eq!(code, 0, "{ev:?}");
            assert!(
                signals(&ev, "Message")
                    .iter()
                    .any(|m| m["args"][0] == "Rebasing to otherremote:testos/other/x86_64")
            );
            let d = default_deployment(bed);
            assert_eq!(
                dict_str(&d, "origin").as_deref(),
                Some("otherremote:testos/other/x86_64")
            );
            // Same refspec again: the contract's error.
            let (code, ev) = txn(
                bed,
                "Rebase",
                "(@a{sv} {}, 'otherremote:testos/other/x86_64', @as [])",
            );
            assert_eq!(code, 1);
            assert_eq!(
                finished(&ev).1,
                "Old and new refs are equal: otherremote:testos/other/x86_64"
            );
        },
    );
}

#[test]
fn signed_remote_signatures_and_refusals() {
    with_bed(
        Options {
            gpg: true,
            ..Default::default()
        },
        |bed| {
            let booted: Vec<Dict> = bed.sysroot_props()["Deployments"].get().unwrap();
            assert_eq!(booted[0]["gpg-enabled"].get::<bool>(), Some(true));
            let sigs = booted[0]
                .get("signatures")
                .expect("signatures of a signed commit");
            assert_eq!(sigs.n_children(), 1);
            let sig = sigs.child_value(0).as_variant().unwrap();
            assert_eq!(sig.child_value(0).get::<bool>(), Some(true), "valid");
            assert_eq!(
                sig.child_value(5).str(),
                Some(bed.world("KEYID").as_str()),
                "fingerprint"
            );
            bed.set_head(2);
            let (code, ev) = txn(bed, "Upgrade", "(@a{sv} {},)");
            assert_eq!(code, 0, "{ev:?}");
            assert!(!signals(&ev, "SignatureProgress").is_empty(), "{ev:?}");
            // An unsigned commit on the signed remote is refused, and nothing changes.
            let tree = bed.tb.join("unsigned-tree");
            run_ok(
                Command::new(project_root().join("tests/testbed/make-tree.sh"))
                    .arg(&tree)
                    .arg("4"),
            );
            let remote = bed.world("REMOTE");
            run_ok(
                Command::new("ostree")
                    .arg(format!("--repo={remote}"))
                    .args([
                        "commit",
                        "--branch=testos/stable/x86_64",
                        "--subject=v4",
                        "--add-metadata-string=version=4",
                    ])
                    .arg(format!("--tree=dir={}", tree.display())),
            );
            run_ok(
                Command::new("ostree")
                    .arg(format!("--repo={remote}"))
                    .args(["summary", "-u"]),
            );
            let before = snapshot(bed);
            let (code, ev) = txn(bed, "Upgrade", "(@a{sv} {},)");
            assert_eq!(code, 1);
            let (_, msg) = finished(&ev);
            assert!(
                msg.contains("GPG verification enabled, but no signatures found"),
                "{msg}"
            );
            assert_eq!(snapshot(bed), before);
        },
    );
}

#[test]
fn bad_requests_fail_cleanly_and_change_nothing() {
    with_bed(Options::default(), |bed| {
        let before = snapshot(bed);
        let other = bed.world("CSUM_OTHER");
        let cases = [
            (
                "Rebase",
                "(@a{sv} {}, 'nosuchremote:testos/stable/x86_64', @as [])".to_string(),
                "nosuchremote",
            ),
            (
                "Rebase",
                "(@a{sv} {}, 'testremote:no/such/ref', @as [])".to_string(),
                "no/such/ref",
            ),
            (
                "Deploy",
                format!("('revision={other}', @a{{sv}} {{}})"),
                "not found in testremote:testos/stable/x86_64",
            ),
            (
                "Deploy",
                "('version=42', @a{sv} {})".to_string(),
                "Version 42 not found in testremote:testos/stable/x86_64",
            ),
        ];
        for (method, args, expected) in cases {
            let (code, ev) = txn(bed, method, &args);
            assert_eq!(code, 1, "{method} {args}: {ev:?}");
            let (_, msg) = finished(&ev);
            assert!(msg.contains(expected), "{method} {args}: {msg}");
            assert_eq!(snapshot(bed), before, "{method} {args} changed the sysroot");
        }
        // Malformed refspecs (image references too) never become a
        // transaction.
        for (target, why) in [
            ("remote:bad ref", ""),
            ("ostree-unverified-image:ftp:x", "Unknown transport 'ftp'"),
            (
                "ostree-remote-image:fedora",
                "Missing second ':' in ostree-remote-image:fedora",
            ),
        ] {
            let args = format!("(@a{{sv}} {{}}, '{target}', @as [])");
            let r = bed.txn_client(None, &["--bus-call", OS_PATH, IFACE_OS, "Rebase", &args]);
            assert_eq!(r.0, 2);
            assert!(
                r.1.iter().any(|e| e["name"]
                    == "org.projectatomic.rpmostreed.Error.InvalidRefspec"
                    && e["message"].as_str().unwrap_or_default().contains(why)),
                "{target}: {:?}",
                r.1
            );
        }
        // An unreachable remote (nothing listens).
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        run_ok(
            Command::new("ostree")
                .arg(format!(
                    "--repo={}",
                    bed.sysroot().join("ostree/repo").display()
                ))
                .args(["remote", "add", "--set=gpg-verify=false", "unreachable"])
                .arg(format!("http://127.0.0.1:{port}/")),
        );
        let before = snapshot(bed);
        let (code, ev) = txn(
            bed,
            "Rebase",
            "(@a{sv} {}, 'unreachable:testos/stable/x86_64', @as [])",
        );
        assert_eq!(code, 1);
        assert!(!finished(&ev).1.is_empty());
        assert_eq!(snapshot(bed), before);
        // A package no repository has: a clear failure, nothing changed.
        let (code, ev) = txn(
            bed,
            "UpdateDeployment",
            "({'install-packages': <['vim']>}, @a{sv} {})",
        );
        assert_eq!(code, 1, "{ev:?}");
        assert_eq!(finished(&ev).1, "Packages not found: vim");
        assert_eq!(snapshot(bed), before);
    });
}

#[test]
fn check_mode_fills_the_cached_update() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            let (code, ev) = txn(bed, "AutomaticUpdateTrigger", "({'mode': <'check'>},)");
            assert_eq!(code, 0, "{ev:?}");
            let os = bed.os_props();
            let cached: Dict = os["CachedUpdate"].get().unwrap();
            assert_eq!(dict_str(&cached, "checksum"), Some(bed.world("CSUM_V3")));
            assert_eq!(dict_str(&cached, "version").as_deref(), Some("3"));
            assert_eq!(dict_str(&cached, "osname").as_deref(), Some("testos"));
            assert_eq!(
                dict_str(&cached, "update-sha256"),
                Some(bed.world("CSUM_V1"))
            );
            assert_eq!(cached["ref-has-new-commit"].get::<bool>(), Some(true));
            assert_eq!(os["HasCachedUpdateRpmDiff"].get::<bool>(), Some(true));
            // No deployment was made.
            assert_eq!(
                bed.sysroot_props()["Deployments"]
                    .get::<Vec<Dict>>()
                    .unwrap()
                    .len(),
                1
            );
            // Policy none: AutomaticUpdateTrigger({}) does nothing.
            let r = bed.txn_client(
                None,
                &[
                    "--bus-call",
                    OS_PATH,
                    IFACE_OS,
                    "AutomaticUpdateTrigger",
                    "(@a{sv} {},)",
                ],
            );
            assert!(
                r.1.iter()
                    .any(|e| e["event"] == "reply" && e["value"] == serde_json::json!([false, ""])),
                "{:?}",
                r.1
            );
        },
    );
}

#[test]
fn stage_finalize_and_reboot_into_the_new_deployment() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.set_head(2);
        let v2 = bed.world("CSUM_V2");
        let (code, ev) = txn(
            bed,
            "Deploy",
            &format!("('revision={v2}', {{'lock-finalization': <true>}})"),
        );
        assert_eq!(code, 0, "{ev:?}");
        let d = default_deployment(bed);
        assert_eq!(d["staged"].get::<bool>(), Some(true));
        assert_eq!(d["finalization-locked"].get::<bool>(), Some(true));
        // Locked: finalize-staged (what the shutdown service runs) leaves it.
        bed.ostree(&["admin", "finalize-staged"]);
        call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
        assert_eq!(default_deployment(bed)["staged"].get::<bool>(), Some(true));
        // FinalizeDeployment with the wrong checksum, then the right one.
        let (code, ev) = txn(bed, "FinalizeDeployment", "({'checksum': <'0000'>},)");
        assert_eq!(code, 1);
        assert_eq!(
            finished(&ev).1,
            format!("Expected staged base checksum 0000, but found {v2}")
        );
        let (code, ev) = txn(bed, "FinalizeDeployment", "(@a{sv} {},)");
        assert_eq!(code, 1);
        assert_eq!(finished(&ev).1, "Missing expected checksum");
        let (code, ev) = txn(
            bed,
            "FinalizeDeployment",
            &format!("({{'checksum': <'{v2}'>}},)"),
        );
        assert_eq!(code, 0, "{ev:?}");
        assert!(bed.wait_rebooted(), "no reboot");
        // The "reboot": finalize at shutdown, boot the new default entry.
        bed.stop_daemon();
        bed.ostree(&["admin", "finalize-staged"]);
        bed.reboot();
        let booted: Dict = bed.os_props()["BootedDeployment"].get().unwrap();
        assert_eq!(dict_str(&booted, "checksum"), Some(v2));
        assert_eq!(booted["staged"].get::<bool>(), Some(false));
    });
}
