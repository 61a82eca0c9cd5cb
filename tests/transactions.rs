//! Transactions: the slot, joining, BUSY, the peer server, Start/Cancel,
//! Finished, abandonment, faults (killed clients and daemons, a held lock), and
//! the first kinds (Rollback, Cleanup, ClearRollbackTarget).

mod common;

use common::*;
use glib::Variant;
use glib::prelude::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn no_opts() -> Variant {
    (Dict::new(),).to_variant()
}

fn cleanup_args(elements: &[&str]) -> Variant {
    (elements.to_vec(),).to_variant()
}

fn active_path(bed: &Bed) -> String {
    bed.sysroot_props()["ActiveTransactionPath"]
        .str()
        .unwrap_or_default()
        .to_string()
}

fn deployment_checksums(bed: &Bed) -> Vec<String> {
    let ds: Vec<Dict> = bed.sysroot_props()["Deployments"].get().unwrap();
    ds.iter().filter_map(|d| dict_str(d, "checksum")).collect()
}

#[test]
fn rollback_reorders_like_ostree_would_gnome_software_client() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            bed.set_head(2);
            bed.ostree(&["admin", "upgrade", "--os=testos"]);
            call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
            let (v1, v2) = (bed.world("CSUM_V1"), bed.world("CSUM_V2"));
            assert_eq!(deployment_checksums(bed), [v2.clone(), v1.clone()]);
            // Pending v2 and no rollback: "rollback" puts the booted v1 back on top.
            let (code, events) = bed.txn_client(
                None,
                &[
                    "--bus-call",
                    OS_PATH,
                    IFACE_OS,
                    "Rollback",
                    "({'reboot': <false>},)",
                ],
            );
            assert_eq!(code, 0, "{events:?}");
            let title = events.iter().find(|e| e["name"] == "Title").unwrap();
            assert_eq!(title["value"], "rollback");
            assert!(events.iter().any(|e| e["name"] == "Message"
                && e["args"][0] == format!("Moving '{v1}.0' to be first deployment")));
            assert_eq!(deployment_checksums(bed), [v1.clone(), v2.clone()]);
            let status = bed.ostree(&["admin", "status"]);
            let first = status.lines().next().unwrap();
            assert!(first.contains(&v1) && first.starts_with('*'), "{status}");
            let log = bed.daemon_log();
            assert!(log.contains("Initiated txn Rollback for caller :"), "{log}");
            assert!(
                log.contains(&format!("Txn Rollback on {OS_PATH} successful")),
                "{log}"
            );
        },
    );
}

#[test]
fn identical_calls_join_others_get_busy() {
    with_bed(Options::default(), |bed| {
        let a = start_call(&bed.conn, OS_PATH, "Cleanup", &cleanup_args(&["base"])).unwrap();
        assert!(a.starts_with("unix:path="), "{a}");
        let props = bed.sysroot_props();
        assert_eq!(props["ActiveTransactionPath"].str(), Some(a.as_str()));
        let (m, sender, path): (String, String, String) = props["ActiveTransaction"].get().unwrap();
        assert_eq!((m.as_str(), path.as_str()), ("Cleanup", OS_PATH));
        assert!(sender.starts_with(':'));
        // Same method, same parameters: the same transaction.
        let b = start_call(&bed.conn, OS_PATH, "Cleanup", &cleanup_args(&["base"])).unwrap();
        assert_eq!(a, b);
        // Anything else: BUSY, with the contract's name and message.
        let other = connect(&bed.bus_address);
        let e = start_call(&other, OS_PATH, "Cleanup", &cleanup_args(&["repomd"])).unwrap_err();
        assert_eq!(error_name(&e), BUSY_ERROR);
        assert_eq!(
            error_message(&e),
            "Transaction in progress: cleanup\n You can cancel the current transaction with `rpm-ostree cancel`"
        );
        let e = start_call(&other, OS_PATH, "Rollback", &no_opts()).unwrap_err();
        assert_eq!(error_name(&e), BUSY_ERROR);
        // Start once; the second Start says false; Finished reaches both peers.
        let t1 = Txn::connect(&a).unwrap();
        let t2 = Txn::connect(&a).unwrap();
        assert_eq!(t1.property("Title"), "cleanup");
        assert!(
            t1.property("InitiatingClientDescription")
                .starts_with("caller :")
        );
        assert!(t1.start().unwrap());
        assert!(!t2.start().unwrap());
        assert_eq!(t1.wait_finished(DEADLINE), Some((true, String::new())));
        assert_eq!(t2.wait_finished(DEADLINE), Some((true, String::new())));
        // A late peer learns the result from Start, alone.
        let t3 = Txn::connect(&a).unwrap();
        let before = t1.signals("Finished").len();
        assert!(!t3.start().unwrap());
        assert_eq!(t3.wait_finished(DEADLINE), Some((true, String::new())));
        assert_eq!(t1.signals("Finished").len(), before);
        // When every peer has left, the slot frees and the socket goes away.
        for t in [&t1, &t2, &t3] {
            t.close();
        }
        assert!(iterate_until(DEADLINE, || active_path(bed).is_empty()));
        let socket = a.trim_start_matches("unix:path=");
        assert!(!std::path::Path::new(socket).exists());
        assert!(start_call(&other, OS_PATH, "Cleanup", &cleanup_args(&["repomd"])).is_ok());
    });
}

#[test]
fn initiator_leaving_before_start_abandons() {
    with_bed(Options::default(), |bed| {
        let initiator = connect(&bed.bus_address);
        let a = start_call(&initiator, OS_PATH, "Rollback", &no_opts()).unwrap();
        let t = Txn::connect(&a).unwrap();
        initiator.close_sync(gio::Cancellable::NONE).unwrap();
        assert!(iterate_until(DEADLINE, || active_path(bed).is_empty()));
        assert!(
            bed.daemon_log()
                .contains("client disconnected before calling Start")
        );
        // The peer that stayed is disconnected, and the slot is free.
        assert!(iterate_until(DEADLINE, || t.peer.is_closed()));
        start_call(&bed.conn, OS_PATH, "Cleanup", &cleanup_args(&["base"])).unwrap();
    });
}

#[test]
fn a_transaction_never_started_is_abandoned_after_the_start_timeout() {
    let opts = Options {
        daemon_env: vec![("RPMOSTREE_TEST_START_TIMEOUT_MS".into(), "300".into())],
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let t0 = Instant::now();
        start_call(&bed.conn, OS_PATH, "Cleanup", &cleanup_args(&["base"])).unwrap();
        assert!(!active_path(bed).is_empty());
        assert!(iterate_until(DEADLINE, || active_path(bed).is_empty()));
        assert!(t0.elapsed() >= Duration::from_millis(300));
        assert!(
            bed.daemon_log()
                .contains("Start not called within 0.3 seconds")
        );
        let (m, _, _): (String, String, String) =
            bed.sysroot_props()["ActiveTransaction"].get().unwrap();
        assert_eq!(m, "");
    });
}

fn rebase_to(remote: &str) -> Variant {
    (
        Dict::new(),
        format!("{remote}:testos/stable/x86_64"),
        Vec::<String>::new(),
    )
        .to_variant()
}

#[test]
fn a_peer_leaving_mid_transaction_does_not_stop_it() {
    let opts = Options {
        http_delay_ms: Some(40),
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.add_http_remote("slowremote");
        let a = start_call(&bed.conn, OS_PATH, "Rebase", &rebase_to("slowremote")).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        t.close();
        // The work goes on without listeners: the rebase lands.
        assert!(iterate_until(Duration::from_secs(60), || active_path(bed).is_empty()));
        assert_eq!(deployment_checksums(bed)[0], bed.world("CSUM_V3"));
        assert!(bed.daemon_log().contains("Txn Rebase on"));
    });
}

#[test]
fn cancel_ends_a_stalled_pull_quickly_and_changes_nothing() {
    let opts = Options {
        http_stall: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.add_http_remote("stalled");
        let before = bed.ostree(&["admin", "status"]);
        let a = start_call(&bed.conn, OS_PATH, "Rebase", &rebase_to("stalled")).unwrap();
        let t = Txn::connect(&a).unwrap();
        assert!(t.start().unwrap());
        // Let the worker get into the pull.
        assert!(!iterate_until(Duration::from_millis(500), || !t
            .signals("Finished")
            .is_empty()));
        t.cancel_within_5s();
        assert_eq!(bed.ostree(&["admin", "status"]), before);
        assert!(bed.daemon_log().contains("Txn Rebase on"));
        assert!(bed.daemon_log().contains("failed: "));
    });
}

#[test]
fn a_stalled_remote_fails_cleanly_after_the_stall_timeout() {
    let opts = Options {
        http_stall: true,
        daemon_env: vec![("RPMOSTREE_TEST_PULL_STALL_TIMEOUT_S".into(), "1".into())],
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.add_http_remote("stalled");
        let a = start_call(&bed.conn, OS_PATH, "Rebase", &rebase_to("stalled")).unwrap();
        let t = Txn::connect(&a).unwrap();
        t.start().unwrap();
        let (ok, msg) = t.wait_finished(DEADLINE).unwrap();
        assert!(!ok);
        assert_eq!(
            msg,
            "Pulling from remote 'stalled' stalled: nothing received for 1 seconds"
        );
    });
}

#[test]
fn daemon_killed_mid_transaction_restarts_clean() {
    let opts = Options {
        http_stall: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.add_http_remote("stalled");
        let before = bed.ostree(&["admin", "status"]);
        let a = start_call(&bed.conn, OS_PATH, "Rebase", &rebase_to("stalled")).unwrap();
        let t = Txn::connect(&a).unwrap();
        t.start().unwrap();
        // The pull runs in a helper process of the daemon.
        let daemon = bed.daemon_pid().unwrap();
        let mut helpers = Vec::new();
        assert!(
            iterate_until(DEADLINE, || {
                helpers = descendants_of(daemon);
                helpers
                    .iter()
                    .any(|&p| cmdline_of(p).contains("internal-pull"))
            }),
            "the pull helper: {helpers:?}"
        );
        bed.kill_daemon(libc::SIGKILL);
        for pid in helpers {
            assert!(
                wait_pid_exit(pid, DEADLINE),
                "helper {pid} outlived the daemon"
            );
        }
        bed.start_daemon();
        let props = bed.sysroot_props();
        assert_eq!(props["ActiveTransactionPath"].str(), Some(""));
        let socket = a.trim_start_matches("unix:path=");
        assert!(!std::path::Path::new(socket).exists(), "stale socket left");
        assert_eq!(bed.ostree(&["admin", "status"]), before);
        // The next transaction runs.
        let b = start_call(&bed.conn, OS_PATH, "Cleanup", &cleanup_args(&["base"])).unwrap();
        let t = Txn::connect(&b).unwrap();
        t.start().unwrap();
        assert_eq!(t.wait_finished(DEADLINE), Some((true, String::new())));
    });
}

/// Holds the sysroot lock through libostree (what `ostree admin` takes) until killed.
const HOLD_LOCK: &str = r#"
import sys
import gi
gi.require_version("OSTree", "1.0")
from gi.repository import Gio, OSTree
s = OSTree.Sysroot.new(Gio.File.new_for_path(sys.argv[1]))
s.load(None)
s.lock()
print("locked", flush=True)
sys.stdin.read()
"#;

#[test]
fn the_sysroot_lock_held_by_another_process_is_busy() {
    with_bed(Options::default(), |bed| {
        let mut holder = with_pdeathsig(
            Command::new("/usr/bin/python3")
                .args(["-c", HOLD_LOCK])
                .arg(bed.sysroot())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        )
        .spawn()
        .unwrap();
        assert_eq!(first_line(&mut holder), "locked");
        let e = start_call(&bed.conn, OS_PATH, "Cleanup", &cleanup_args(&["base"])).unwrap_err();
        assert_eq!(error_name(&e), BUSY_ERROR);
        assert_eq!(error_message(&e), "System transaction in progress");
        assert!(active_path(bed).is_empty());
        stop_child(&mut holder, Duration::from_secs(5));
        let a = start_call(&bed.conn, OS_PATH, "Cleanup", &cleanup_args(&["base"])).unwrap();
        let t = Txn::connect(&a).unwrap();
        t.start().unwrap();
        assert_eq!(t.wait_finished(DEADLINE), Some((true, String::new())));
    });
}

#[test]
fn reboot_runs_the_reboot_command_and_refuses_new_transactions() {
    with_bed(Options::default(), |bed| {
        bed.ostree(&[
            "admin",
            "deploy",
            "--os=testos",
            "testremote:testos/stable/x86_64",
        ]);
        let mut o = Dict::new();
        o.insert("reboot".into(), true.to_variant());
        let a = start_call(&bed.conn, OS_PATH, "Rollback", &(o,).to_variant()).unwrap();
        let t = Txn::connect(&a).unwrap();
        t.start().unwrap();
        assert_eq!(t.wait_finished(DEADLINE), Some((true, String::new())));
        assert!(bed.wait_rebooted(), "reboot command not run");
        let e = start_call(&bed.conn, OS_PATH, "Cleanup", &cleanup_args(&["base"])).unwrap_err();
        assert_eq!(
            error_message(&e),
            "Reboot initiated, cannot start new transaction"
        );
    });
}

#[test]
fn rollback_and_cleanup_kinds() {
    with_bed(Options::default(), |bed| {
        let run_txn = |method: &str, args: &Variant| {
            let a = start_call(&bed.conn, OS_PATH, method, args).unwrap();
            let t = Txn::connect(&a).unwrap();
            t.start().unwrap();
            let r = t.wait_finished(DEADLINE).unwrap();
            t.close();
            assert!(iterate_until(DEADLINE, || active_path(bed).is_empty()));
            (r, t)
        };
        // One deployment: nothing to roll back to.
        let ((ok, msg), _) = run_txn("Rollback", &no_opts());
        assert!(!ok);
        assert_eq!(msg, "No rollback deployment found");
        // Two deployments (offline: the first is current): rollback swaps them.
        bed.set_head(2);
        bed.ostree(&["admin", "upgrade", "--os=testos"]);
        let (v1, v2) = (bed.world("CSUM_V1"), bed.world("CSUM_V2"));
        call(&bed.conn, SYSROOT, IFACE_SYSROOT, "Reload", None).unwrap();
        assert_eq!(deployment_checksums(bed), [v2.clone(), v1.clone()]);
        let ((ok, _), _) = run_txn("Rollback", &no_opts());
        assert!(ok);
        assert_eq!(deployment_checksums(bed), [v1.clone(), v2.clone()]);
        // Pinned rollback deployments survive cleanup; unpinned ones go.
        bed.ostree(&["admin", "pin", "1"]);
        let ((ok, _), t) = run_txn("ClearRollbackTarget", &no_opts());
        assert!(ok);
        assert!(
            t.signals("Message")
                .iter()
                .any(|m| m.child_value(0).str() == Some("Deployments unchanged."))
        );
        assert_eq!(deployment_checksums(bed).len(), 2);
        bed.ostree(&["admin", "pin", "--unpin", "1"]);
        let ((ok, _), _) = run_txn("Cleanup", &cleanup_args(&["rollback-deploy", "repomd"]));
        assert!(ok);
        assert_eq!(deployment_checksums(bed), [v1]);
        let ((ok, _), _) = run_txn("Cleanup", &cleanup_args(&["base"]));
        assert!(ok);
    });
}
