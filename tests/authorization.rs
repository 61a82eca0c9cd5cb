//! Authorization with a real polkitd, the project's bus policy and polkit
//! policy: unprivileged callers, rules granting single actions, root without
//! polkit, a frozen polkitd, transaction peers.

mod common;

use common::*;
use glib::prelude::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const OS_EXPERIMENTAL: &str = "org.projectatomic.rpmostree1.OSExperimental";

/// Calls as `user` through tests/clients/bus_calls.py; one JSON outcome per call.
fn calls_as(bed: &Bed, user: Option<&str>, calls: &[(&str, &str, &str, &str)]) -> Vec<Value> {
    let spec = serde_json::to_string(
        &calls
            .iter()
            .map(|(p, i, m, a)| json!([p, i, m, a]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let script = bed.project_path("tests/clients/bus_calls.py");
    let mut argv = vec![];
    if user == Some("nobody") {
        argv.extend([
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]);
    }
    argv.extend(["/usr/bin/python3", script.as_str(), spec.as_str()]);
    let out = run_ok(&mut bed.command(&argv));
    let results: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), calls.len(), "{out}");
    results
}

/// (method, args) of every mutating OS method.
const MUTATING: &[(&str, &str)] = &[
    ("AutomaticUpdateTrigger", "(@a{sv} {},)"),
    ("Deploy", "('1', @a{sv} {})"),
    ("Upgrade", "(@a{sv} {},)"),
    ("Rebase", "(@a{sv} {}, 'otherremote:', @as [])"),
    ("UpdateDeployment", "(@a{sv} {}, @a{sv} {})"),
    ("Rollback", "(@a{sv} {},)"),
    ("ClearRollbackTarget", "(@a{sv} {},)"),
    ("Cleanup", "(['base'],)"),
    ("KernelArgs", "('', ['x=1'], @as [], @as [], @a{sv} {})"),
    ("SetInitramfsState", "(true, @as [], @a{sv} {})"),
    (
        "InitramfsEtc",
        "(['/etc/hosts'], @as [], false, false, @a{sv} {})",
    ),
    ("FinalizeDeployment", "(@a{sv} {},)"),
    ("PkgChange", "(@a{sv} {}, ['x'], @as [])"),
    ("RefreshMd", "(@a{sv} {},)"),
    ("ModifyYumRepo", "('x', {'enabled': '1'})"),
    ("DownloadUpdateRpmDiff", "()"),
    ("DownloadDeployRpmDiff", "('1', @as [])"),
    ("DownloadRebaseRpmDiff", "('x', @as [])"),
    ("GetDeploymentsRpmDiff", "('a', 'b')"),
    ("GetCachedUpdateRpmDiff", "('',)"),
    ("GetCachedDeployRpmDiff", "('1', @as [])"),
    ("GetCachedRebaseRpmDiff", "('x', @as [])"),
];

fn polkit_opts(rules: Option<&str>) -> Options {
    Options {
        polkit: true,
        rules: rules.map(String::from),
        ..Default::default()
    }
}

#[test]
fn nobody_is_denied_every_change_but_may_read() {
    with_bed(polkit_opts(None), |bed| {
        let mut calls: Vec<(&str, &str, &str, &str)> = MUTATING
            .iter()
            .map(|(m, a)| (OS_PATH, IFACE_OS, *m, *a))
            .collect();
        calls.push((SYSROOT, IFACE_SYSROOT, "ReloadConfig", "()"));
        calls.push((SYSROOT, IFACE_SYSROOT, "RegisterClient", "(@a{sv} {},)"));
        let results = calls_as(bed, Some("nobody"), &calls);
        for ((path, _, method, _), r) in calls.iter().zip(&results) {
            assert_eq!(r["ok"], false, "{method}: {r}");
            assert_eq!(
                r["name"], "org.freedesktop.DBus.Error.AccessDenied",
                "{method}: {r}"
            );
            let what = if *path == SYSROOT { "Sysroot" } else { "OS" };
            assert_eq!(
                r["message"],
                format!("rpmostreed {what} operation {method} not allowed for user"),
                "{method}"
            );
        }
        let reads: Vec<(&str, &str, &str, &str)> = vec![
            (SYSROOT, IFACE_SYSROOT, "GetOS", "('',)"),
            (SYSROOT, IFACE_SYSROOT, "Reload", "()"),
            (
                SYSROOT,
                "org.freedesktop.DBus.Properties",
                "GetAll",
                "('org.projectatomic.rpmostree1.Sysroot',)",
            ),
            (
                OS_PATH,
                "org.freedesktop.DBus.Properties",
                "Get",
                "('org.projectatomic.rpmostree1.OS', 'DefaultDeployment')",
            ),
            (OS_PATH, IFACE_OS, "GetDeploymentBootConfig", "('', true)"),
            (
                OS_PATH,
                "org.freedesktop.DBus.Introspectable",
                "Introspect",
                "()",
            ),
            (SYSROOT, "org.freedesktop.DBus.Peer", "Ping", "()"),
            (
                "/org/projectatomic/rpmostree1",
                "org.freedesktop.DBus.ObjectManager",
                "GetManagedObjects",
                "()",
            ),
        ];
        for ((_, _, method, _), r) in reads.iter().zip(calls_as(bed, Some("nobody"), &reads)) {
            assert_eq!(r["ok"], true, "{method}: {r}");
        }
        // The bus policy keeps OSExperimental for root.
        let r = &calls_as(
            bed,
            Some("nobody"),
            &[(OS_PATH, OS_EXPERIMENTAL, "Moo", "(true,)")],
        )[0];
        assert_eq!(r["name"], "org.freedesktop.DBus.Error.AccessDenied", "{r}");
        let r = &calls_as(bed, None, &[(OS_PATH, OS_EXPERIMENTAL, "Moo", "(true,)")])[0];
        assert_eq!(r["reply"], "('🐄\\n',)", "{r}");
        // Nothing changed.
        assert!(bed.sysroot_props()["ActiveTransactionPath"].str() == Some(""));
    });
}

const GRANT_DEPLOY: &str = r#"polkit.addRule(function(action, subject) {
    if (action.id == "org.projectatomic.rpmostree1.deploy" && subject.user == "nobody")
        return polkit.Result.YES;
});"#;

#[test]
fn a_rule_granting_one_action_lets_exactly_its_methods_through() {
    with_bed(polkit_opts(Some(GRANT_DEPLOY)), |bed| {
        let calls = [
            // deploy: Deploy, and UpdateDeployment with only set-revision.
            (OS_PATH, IFACE_OS, "Deploy", "('version=1', @a{sv} {})"),
            (
                OS_PATH,
                IFACE_OS,
                "UpdateDeployment",
                "({'set-revision': <'version=1'>}, @a{sv} {})",
            ),
            // rebase, upgrade, and UpdateDeployment needing rebase or upgrade: denied.
            (
                OS_PATH,
                IFACE_OS,
                "Rebase",
                "(@a{sv} {}, 'otherremote:', @as [])",
            ),
            (OS_PATH, IFACE_OS, "Upgrade", "(@a{sv} {},)"),
            (
                OS_PATH,
                IFACE_OS,
                "UpdateDeployment",
                "({'set-refspec': <'otherremote:'>}, @a{sv} {})",
            ),
            (
                OS_PATH,
                IFACE_OS,
                "UpdateDeployment",
                "(@a{sv} {}, @a{sv} {})",
            ),
            (
                OS_PATH,
                IFACE_OS,
                "UpdateDeployment",
                "({'set-revision': <'1'>}, {'no-initramfs': <true>})",
            ),
        ];
        let r = calls_as(bed, Some("nobody"), &calls[..1]);
        assert_eq!(r[0]["ok"], true, "{}", r[0]);
        // A transaction exists now; let it be abandoned before the next call.
        assert!(iterate_until(DEADLINE, || {
            bed.sysroot_props()["ActiveTransactionPath"].str() == Some("")
        }));
        let r = calls_as(bed, Some("nobody"), &calls[1..]);
        assert_eq!(r[0]["ok"], true, "{}", r[0]);
        for (c, r) in calls[2..].iter().zip(&r[1..]) {
            assert_eq!(
                r["name"], "org.freedesktop.DBus.Error.AccessDenied",
                "{c:?}: {r}"
            );
        }
    });
}

#[test]
fn root_works_without_polkit_and_others_get_an_authorization_error() {
    with_bed(Options::default(), |bed| {
        let r = calls_as(bed, None, &[(SYSROOT, IFACE_SYSROOT, "ReloadConfig", "()")]);
        assert_eq!(r[0]["ok"], true, "{}", r[0]);
        let r = calls_as(
            bed,
            Some("nobody"),
            &[(SYSROOT, IFACE_SYSROOT, "ReloadConfig", "()")],
        );
        assert_eq!(
            r[0]["name"], "org.freedesktop.DBus.Error.Failed",
            "{}",
            r[0]
        );
        assert!(
            r[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Authorization error: "),
            "{}",
            r[0]
        );
        let (code, out, err) = bed.cli(&["cleanup", "-b"]);
        assert_eq!(code, 0, "{out}{err}");
    });
}

#[test]
fn a_frozen_polkitd_does_not_block_other_clients() {
    with_bed(polkit_opts(None), |bed| {
        let pid = bus_name_pid(&bed.conn, "org.freedesktop.PolicyKit1");
        kill(pid, libc::SIGSTOP);
        // An unprivileged call now waits for polkit...
        let script = bed.project_path("tests/clients/bus_calls.py");
        let spec = json!([[OS_PATH, IFACE_OS, "Upgrade", "(@a{sv} {},)"]]).to_string();
        let mut waiting = with_pdeathsig(&mut bed.command(&[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            &script,
            &spec,
        ]))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        // ...while everybody else is served at once.
        let other = connect(&bed.bus_address);
        let t0 = Instant::now();
        for _ in 0..20 {
            get_all(&other, SYSROOT, IFACE_SYSROOT);
        }
        call(
            &other,
            SYSROOT,
            IFACE_SYSROOT,
            "GetOS",
            Some(&("",).to_variant()),
        )
        .unwrap();
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
        assert!(
            wait_child(&mut waiting, Duration::from_millis(300)).is_none(),
            "polkit answered while frozen?"
        );
        kill(pid, libc::SIGCONT);
        assert!(first_line(&mut waiting).contains("AccessDenied"));
        stop_child(&mut waiting, Duration::from_secs(5));
    });
}

const GRANT_CANCEL: &str = r#"polkit.addRule(function(action, subject) {
    if (action.id == "org.projectatomic.rpmostree1.cancel" && subject.user == "nobody")
        return polkit.Result.YES;
});"#;

#[test]
fn peers_other_than_the_initiator_may_watch_but_not_start_or_cancel() {
    with_bed(polkit_opts(None), |bed| {
        let address =
            start_call(&bed.conn, OS_PATH, "Cleanup", &(vec!["base"],).to_variant()).unwrap();
        let script = bed.project_path("tests/clients/txn_client.py");
        let nobody = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            script.as_str(),
            "--address",
            address.as_str(),
            "--timeout",
            "20",
        ];
        // Start and Cancel are refused.
        for extra in [vec![], vec!["--cancel"]] {
            let mut argv = nobody.to_vec();
            argv.extend(extra);
            let (code, out, _) = run(&mut bed.command(&argv));
            assert_eq!(code, 2, "{out}");
            assert!(
                out.contains("org.freedesktop.DBus.Error.AccessDenied"),
                "{out}"
            );
        }
        // Watching is fine: nobody sees the Finished of root's transaction.
        let mut argv = nobody.to_vec();
        argv.push("--no-start");
        let mut watcher = with_pdeathsig(&mut bed.command(&argv))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Connected once it has read the Title (its second line).
        let mut lines = std::io::BufReader::new(watcher.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("\"Title\"") {
            line.clear();
            assert!(std::io::BufRead::read_line(&mut lines, &mut line).unwrap() > 0);
        }
        let t = Txn::connect(&address).unwrap();
        assert!(t.start().unwrap());
        assert_eq!(t.wait_finished(DEADLINE), Some((true, String::new())));
        let status = wait_child(&mut watcher, DEADLINE).expect("watcher finished");
        assert_eq!(status.code(), Some(0));
    });
    // With a rule granting `cancel`, nobody may cancel root's transaction.
    with_bed(polkit_opts(Some(GRANT_CANCEL)), |bed| {
        let address =
            start_call(&bed.conn, OS_PATH, "Cleanup", &(vec!["base"],).to_variant()).unwrap();
        let script = bed.project_path("tests/clients/txn_client.py");
        let (code, out, _) = run(&mut bed.command(&[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            &script,
            "--address",
            &address,
            "--cancel",
            "--timeout",
            "20",
        ]));
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("\"event\": \"cancel\""), "{out}");
        assert!(out.contains("Operation was cancelled"), "{out}");
    });
}
