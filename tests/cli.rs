//! The drop-in CLI end to end on the test bed: every verb, the outputs and exit
//! codes automation relies on, JSON field types, SIGINT, the update driver.

mod common;

use common::*;
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;

fn ok(bed: &Bed, args: &[&str]) -> String {
    let (code, out, err) = bed.cli(args);
    assert_eq!(code, 0, "rpm-ostree {args:?}\nstdout: {out}\nstderr: {err}");
    out
}

fn status_json(bed: &Bed, args: &[&str]) -> Value {
    let mut a = vec!["status", "--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&ok(bed, &a)).unwrap()
}

#[test]
fn status_text_json_and_jsonpath() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            let v1 = bed.world("CSUM_V1");
            let out = ok(bed, &["status"]);
            assert!(
                out.starts_with("State: idle\nDeployments:\n● testremote:testos/stable/x86_64\n"),
                "{out}"
            );
            assert!(
                out.contains("                  Version: 1 (2024-01-01T00:00:00Z)\n"),
                "{out}"
            );
            assert!(
                out.contains(&format!("                   Commit: {v1}\n")),
                "{out}"
            );
            assert!(!out.contains("StateRoot"), "only with -v: {out}");
            // The daemon knew who that quick client was, coming and going.
            assert!(
                iterate_until(DEADLINE, || bed
                    .daemon_log()
                    .contains(" uid:0) vanished; remaining=0")),
                "{}",
                bed.daemon_log()
            );
            let log = bed.daemon_log();
            assert!(log.contains(" uid:0) added; new total=1"), "{log}");
            assert!(!log.contains("uid:<unknown>"), "{log}");
            let out = ok(bed, &["status", "-v"]);
            assert!(out.contains("AutomaticUpdates: disabled\n"), "{out}");
            assert!(out.contains("                StateRoot: testos\n"), "{out}");
            assert!(out.contains("(index: 0)"), "{out}");
            let out = ok(bed, &["status", "-b"]);
            assert!(out.contains("BootedDeployment:\n● "), "{out}");
            // JSON: what zincati and the Go client decode.
            let j = status_json(bed, &[]);
            assert_eq!(j["transaction"], Value::Null);
            assert_eq!(j["cached-update"], Value::Null);
            assert_eq!(j["update-driver"], Value::Null);
            let d = &j["deployments"][0];
            assert_eq!(d["booted"], true);
            assert_eq!(d["checksum"], v1.as_str());
            assert_eq!(d["version"], "1");
            assert!(d["base-commit-meta"].is_object());
            assert!(d["serial"].is_i64());
            assert!(d["timestamp"].is_u64());
            assert_eq!(d["staged"], false);
            for k in [
                "packages",
                "requested-packages",
                "requested-local-packages",
                "base-removals",
                "requested-base-removals",
            ] {
                assert!(d[k].is_array(), "{k}");
            }
            for k in ["live-inprogress", "live-replaced", "layered-commit-meta"] {
                assert!(d.get(k).is_none(), "{k}");
            }
            let out = ok(bed, &["status", "--jsonpath", "$.deployments[0].booted"]);
            assert_eq!(out, "[\n  true\n]\n");
            assert_eq!(
                status_json(bed, &["-b"])["deployments"]
                    .as_array()
                    .unwrap()
                    .len(),
                1
            );
            let (code, _, err) = bed.cli(&["status", "--json", "--jsonpath", "$"]);
            assert_eq!(code, 1, "{err}");
            // Any user may look.
            let (code, out, err) = bed.cli_as(Some("nobody"), &["status"]);
            assert_eq!(code, 0, "{out}{err}");
            assert!(out.contains("● testremote:testos/stable/x86_64"), "{out}");
            let (code, out, _) = bed.cli_as(Some("nobody"), &["status", "--json"]);
            assert_eq!(code, 0);
            assert!(out.contains("\"deployments\""));
            // No pending deployment: --pending-exit-77 exits 0.
            assert_eq!(bed.cli(&["status", "--pending-exit-77"]).0, 0);
        },
    );
}

#[test]
fn upgrade_check_deploy_rollback_and_exit_codes() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            // --check with nothing new: 77 and the contract's lines.
            bed.set_head(1);
            let (code, out, err) = bed.cli(&["upgrade", "--check"]);
            assert_eq!(code, 77, "{out}{err}");
            assert!(out.contains("No updates available."), "{out}");
            assert!(
                err.contains("Note: --check and --preview may be unreliable."),
                "{err}"
            );
            // --check with an update: the AvailableUpdate block.
            bed.set_head(2);
            let (code, out, err) = bed.cli(&["upgrade", "--check"]);
            assert_eq!(code, 0, "{out}{err}");
            assert!(
                out.contains("AvailableUpdate:\n        Version: 2 (2024-02-01T00:00:00Z)\n"),
                "{out}"
            );
            let j = status_json(bed, &[]);
            assert_eq!(
                j["cached-update"]["checksum"],
                bed.world("CSUM_V2").as_str()
            );
            // The upgrade itself, with the reboot hint; status shows it staged.
            let out = ok(bed, &["upgrade"]);
            assert!(
                out.ends_with("Run \"systemctl reboot\" to start a reboot\n"),
                "{out}"
            );
            assert!(out.contains("Staging deployment"), "{out}");
            let out = ok(bed, &["status"]);
            assert!(out.contains("                   Staged: yes\n"), "{out}");
            assert_eq!(bed.cli(&["status", "--pending-exit-77"]).0, 77);
            // Nothing new now.
            let (code, out, _) = bed.cli(&["upgrade", "--unchanged-exit-77"]);
            assert_eq!(code, 77, "{out}");
            assert!(out.contains("No upgrade available."), "{out}");
            let (code, out, _) = bed.cli(&["deploy", "--unchanged-exit-77", "version=2"]);
            assert_eq!(code, 77, "{out}");
            assert!(out.contains("No change."), "{out}");
            // Rollback refuses a staged deployment, cleanup -p removes it.
            let (code, _, err) = bed.cli(&["rollback"]);
            assert_eq!(code, 1);
            assert_eq!(err, "error: Staged deployment (remove with cleanup -p)\n");
            ok(bed, &["cleanup", "-p"]);
            assert_eq!(bed.cli(&["status", "--pending-exit-77"]).0, 0);
            let (code, _, err) = bed.cli(&["cleanup"]);
            assert_eq!(code, 1);
            assert_eq!(
                err,
                "error: At least one cleanup option must be specified\n"
            );
            // Nothing to roll back to: one deployment, nothing pending.
            let (code, _, err) = bed.cli(&["rollback"]);
            assert_eq!(code, 1);
            assert_eq!(err, "error: No rollback deployment found\n");
        },
    );
}

#[test]
fn rebase_kargs_initramfs_and_moo() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            let out = ok(bed, &["rebase", "testos/other/x86_64"]);
            assert!(
                out.ends_with(
                    "Changes queued for next boot. Run \"systemctl reboot\" to start a reboot\n"
                ),
                "{out}"
            );
            let j = status_json(bed, &[]);
            assert_eq!(
                j["deployments"][0]["origin"],
                "testremote:testos/other/x86_64"
            );
            let (code, _, err) = bed.cli(&["rebase"]);
            assert_eq!(code, 1);
            assert!(
                err.contains("Must specify refspec, or -b branch or -m remote"),
                "{err}"
            );
            // kargs: print, append, append-if-missing twice.
            let out = ok(bed, &["kargs"]);
            assert!(out.starts_with("root=LABEL=root rw"), "{out}");
            ok(bed, &["kargs", "--append=foo=bar"]);
            assert!(ok(bed, &["kargs"]).contains("foo=bar"));
            assert_eq!(
                bed.cli(&["kargs", "--append-if-missing=baz", "--unchanged-exit-77"])
                    .0,
                0
            );
            let (code, out, _) =
                bed.cli(&["kargs", "--append-if-missing=baz", "--unchanged-exit-77"]);
            assert_eq!(code, 77, "{out}");
            // initramfs: state, enable with args, state again.
            assert_eq!(
                ok(bed, &["initramfs"]),
                "Initramfs regeneration: disabled\n"
            );
            let out = ok(
                bed,
                &["initramfs", "--enable", "--arg=-I", "--arg=/etc/foo"],
            );
            assert!(
                out.contains("Initramfs regeneration is now: enabled"),
                "{out}"
            );
            assert_eq!(
                ok(bed, &["initramfs"]),
                "Initramfs regeneration: enabled\nInitramfs args: -I /etc/foo\n"
            );
            let (code, _, err) = bed.cli(&["initramfs", "--arg=x"]);
            assert_eq!(code, 1);
            assert!(err.contains("--arg must be used with --enable"), "{err}");
            // initramfs-etc.
            assert_eq!(ok(bed, &["initramfs-etc"]), "No tracked files.\n");
            ok(bed, &["initramfs-etc", "--track=/etc/debian_version"]);
            assert_eq!(
                ok(bed, &["initramfs-etc"]),
                "Tracked files:\n  /etc/debian_version\n"
            );
            // The title of a running transaction shows in status.
            let out = ok(bed, &["testutils", "moo"]);
            assert_eq!(out, "🐄\n");
            ok(bed, &["reload"]);
            let out = ok(bed, &["cancel"]);
            assert_eq!(out, "No active transaction.\n");
        },
    );
}

#[test]
fn a_running_transaction_shows_in_status_and_cancel_ends_it() {
    with_bed(Options::default(), |bed| {
        use glib::prelude::*;
        let mut opts = Dict::new();
        opts.insert(
            "initiating-command-line".into(),
            "kargs --append=X=1 ".to_variant(),
        );
        let args = (
            "",
            vec!["X=1"],
            Vec::<String>::new(),
            Vec::<String>::new(),
            opts,
        )
            .to_variant();
        start_call(&bed.conn, OS_PATH, "KernelArgs", &args).unwrap();
        let out = ok(bed, &["status"]);
        assert!(
            out.starts_with("State: busy\nTransaction: kargs --append=X=1 \n  Initiator: caller :"),
            "{out}"
        );
        let j = status_json(bed, &[]);
        assert_eq!(j["transaction"][0], "KernelArgs");
        let out = ok(bed, &["cancel"]);
        assert_eq!(
            out,
            "Cancelling transaction: kargs --append=X=1 \nCancelled.\n"
        );
        assert_eq!(ok(bed, &["cancel"]), "No active transaction.\n");
    });
}

#[test]
fn sigint_cancels_a_running_upgrade() {
    with_bed(
        Options {
            http_stall: true,
            ..Default::default()
        },
        |bed| {
            bed.add_http_remote("stalled");
            let before = bed.ostree(&["admin", "status"]);
            let mut cli = with_pdeathsig(
                bed.command(&[
                    BIN,
                    "rebase",
                    "stalled:testos/stable/x86_64",
                    &format!("--sysroot={}", bed.sysroot().display()),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            )
            .spawn()
            .unwrap();
            // Wait until the transaction runs (its pull is stuck on the remote).
            assert!(iterate_until(DEADLINE, || {
                bed.sysroot_props()["ActiveTransactionPath"].str() != Some("")
            }));
            assert!(wait_child(&mut cli, Duration::from_millis(500)).is_none());
            kill(cli.id() as i32, libc::SIGINT);
            let status =
                wait_child(&mut cli, Duration::from_secs(5)).expect("ended within 5 s of SIGINT");
            assert_eq!(status.code(), Some(1));
            let mut err = String::new();
            std::io::Read::read_to_string(cli.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(
                err.contains("Caught SIGINT, cancelling transaction"),
                "{err}"
            );
            assert!(err.contains("error: Operation was cancelled"), "{err}");
            assert_eq!(bed.ostree(&["admin", "status"]), before);
        },
    );
}

/// A writable cgroup2 hierarchy, to run a process in a "unit" (no systemd here).
fn cgroup2_root() -> Option<std::path::PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines()
        .find(|l| l.contains(" - cgroup2 "))
        .and_then(|l| l.split(' ').nth(4))
        .map(std::path::PathBuf::from)
}

#[test]
#[allow(unsafe_code)] // pre_exec, to enter a cgroup before exec
fn update_driver_registration_and_guard() {
    let Some(root) = cgroup2_root() else {
        panic!("no cgroup2 hierarchy to run the driver in");
    };
    let unit = format!("test-driver-{}.service", std::process::id());
    let cgroup = root.join(&unit);
    std::fs::create_dir(&cgroup).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        with_bed(Options::default(), |bed| {
            // Zincati's registration, from inside its unit.
            let mut cmd = bed.command(&[
                BIN,
                "deploy",
                "",
                "--register-driver=TestDriver",
                &format!("--sysroot={}", bed.sysroot().display()),
            ]);
            let procs = cgroup.join("cgroup.procs");
            // SAFETY: only writes our own pid into the cgroup, before exec.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                    std::fs::write(&procs, b"0")
                });
            }
            let (code, out, err) = run(&mut cmd);
            assert_eq!(code, 0, "{out}{err}");
            let j = status_json(bed, &[]);
            assert_eq!(j["update-driver"]["driver-name"], "TestDriver");
            assert_eq!(j["update-driver"]["driver-sd-unit"], unit.as_str());
            let out = ok(bed, &["status", "-v"]);
            assert!(
                out.contains(&format!("AutomaticUpdatesDriver: TestDriver ({unit})\n")),
                "{out}"
            );
            // Others are turned away unless they bypass the driver.
            let (code, _, err) = bed.cli(&["upgrade"]);
            assert_eq!(code, 1);
            assert!(
                err.starts_with(&format!(
                    "error: Updates and deployments are driven by TestDriver ({unit})\n"
                )),
                "{err}"
            );
            assert!(
                err.contains(
                    "Use --bypass-driver to bypass TestDriver and perform the operation anyways"
                ),
                "{err}"
            );
            ok(bed, &["upgrade", "--bypass-driver"]);
        });
    }));
    let _ = std::fs::remove_dir(&cgroup);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn version_unknown_verbs_and_flags() {
    let out = std::process::Command::new(BIN)
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("rpm-ostree:\n Version: '"), "{text}");
    assert!(text.contains("\n Features:\n  - "), "{text}");
    let out = std::process::Command::new(BIN)
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("Usage: rpm-ostree"), "{err}");
    assert!(err.contains("error: Unknown command 'frobnicate'"), "{err}");
    for verb in [
        "status",
        "upgrade",
        "deploy",
        "rebase",
        "rollback",
        "cleanup",
        "kargs",
        "initramfs",
        "initramfs-etc",
        "cancel",
        "reload",
        "finalize-deployment",
    ] {
        let out = std::process::Command::new(BIN)
            .args([verb, "--no-such-flag"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{verb}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"),
            "{verb}"
        );
    }
    // Not booted via libostree and no --sysroot: the contract's message.
    if !std::path::Path::new("/run/ostree-booted").exists() {
        let out = std::process::Command::new(BIN)
            .arg("status")
            .env_remove("container")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8(out.stderr).unwrap(),
            "error: This system was not booted via libostree.\nCurrently, most rpm-ostree commands only work on ostree-based host systems.\n\n"
        );
    }
}

#[test]
fn finalize_deployment_and_usroverlay() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.set_head(2);
        let v2 = bed.world("CSUM_V2");
        ok(bed, &["upgrade", "--lock-finalization"]);
        let j = status_json(bed, &[]);
        assert_eq!(j["deployments"][0]["finalization-locked"], true, "{j}");
        let (code, _, err) = bed.cli(&["finalize-deployment"]);
        assert_eq!(code, 1);
        assert!(err.contains("Must specify the expected CHECKSUM"), "{err}");
        let (code, _, err) = bed.cli(&["finalize-deployment", "0000"]);
        assert_eq!(code, 1);
        assert_eq!(
            err,
            format!("error: Expected staged base checksum 0000, but found {v2}\n")
        );
        ok(bed, &["finalize-deployment", &v2]);
        assert!(bed.wait_rebooted(), "no reboot");
        // usroverlay is libostree's unlock of the booted deployment.
        let (code, out, err) = bed.cli(&["usroverlay"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("Development mode enabled"), "{out}");
        let out = ok(bed, &["status"]);
        assert!(
            out.contains("                 Unlocked: development\n"),
            "{out}"
        );
    });
}
