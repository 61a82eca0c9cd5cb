//! Hardening (issue 16): what a caller can send is bounded and shaped before
//! anything is written: kernel arguments without control characters,
//! tracked initramfs paths plain and below `/etc` (and never read through a
//! symlink out of it), no string of absurd size reaching a helper.

mod common;

use common::*;
use glib::prelude::*;

fn boot_entries(bed: &Bed) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in [
        "boot/loader/entries",
        "boot/loader.0/entries",
        "boot/loader.1/entries",
    ] {
        let Ok(rd) = std::fs::read_dir(bed.sysroot().join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            out.push((e.path().display().to_string(), text));
        }
    }
    out.sort();
    out
}

fn os_call(bed: &Bed, method: &str, args: &str) -> Result<glib::Variant, glib::Error> {
    let v = glib::Variant::parse(None, args).unwrap();
    call(&bed.conn, OS_PATH, IFACE_OS, method, Some(&v))
}

fn invalid_args(r: Result<glib::Variant, glib::Error>) -> String {
    let e = r.expect_err("refused");
    assert_eq!(
        error_name(&e),
        "org.freedesktop.DBus.Error.InvalidArgs",
        "{}",
        error_message(&e)
    );
    error_message(&e)
}

#[test]
fn kernel_arguments_with_control_characters_are_refused() {
    with_bed(Options::default(), |bed| {
        let before = boot_entries(bed);
        for (args, what) in [
            (
                "('', ['x=1\\ninitrd /evil'], @as [], @as [], @a{sv} {})",
                "control characters",
            ),
            (
                "('', ['a\\tb'], @as [], @as [], @a{sv} {})",
                "control characters",
            ),
            (
                "('', @as [], ['console=tty\\r0'], @as [], @a{sv} {})",
                "control characters",
            ),
            (
                "('', ['q=\"open'], @as [], @as [], @a{sv} {})",
                "unbalanced quote",
            ),
            (
                "('', @as [], @as [], @as [], {'final-kernel-args': <'quiet\\ninitrd /x'>})",
                "control characters",
            ),
            (
                "('', @as [], @as [], @as [], {'append-if-missing': <['a\\nb']>})",
                "control characters",
            ),
        ] {
            let msg = invalid_args(os_call(bed, "KernelArgs", args));
            assert!(msg.contains(what), "{args}: {msg}");
        }
        let msg = invalid_args(os_call(
            bed,
            "SetInitramfsState",
            "(true, ['--add\\nfoo'], @a{sv} {})",
        ));
        assert!(msg.contains("control characters"), "{msg}");
        assert_eq!(boot_entries(bed), before);
        assert_eq!(bed.sysroot_props()["ActiveTransactionPath"].str(), Some(""));
    });
}

#[test]
fn tracked_paths_are_plain_paths_below_etc() {
    with_bed(Options::default(), |bed| {
        for bad in [
            "/etc/./shadow",
            "/etc//shadow",
            "/etc/",
            "/etc/../root/x",
            "/etc/a\\nb",
        ] {
            let args = format!("(['{bad}'], @as [], false, false, @a{{sv}} {{}})");
            let e = os_call(bed, "InitramfsEtc", &args).expect_err(bad);
            let msg = error_message(&e);
            assert!(
                msg.contains("forbidden") || msg.contains("not allowed"),
                "{bad}: {msg}"
            );
        }
        // A directory of /etc that is a symlink out of it is not followed.
        let etc = bed.sysroot().join(format!(
            "ostree/deploy/testos/deploy/{}.0/etc",
            bed.world("CSUM_V1")
        ));
        let outside = bed.tb.join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "root only\n").unwrap();
        std::os::unix::fs::symlink(&outside, etc.join("escape")).unwrap();
        let before = boot_entries(bed);
        let (code, ev) = bed.txn_client(
            None,
            &[
                "--bus-call",
                OS_PATH,
                IFACE_OS,
                "InitramfsEtc",
                "(['/etc/escape/secret'], @as [], false, false, @a{sv} {})",
            ],
        );
        assert_ne!(code, 0, "{ev:?}");
        let finished = ev
            .iter()
            .find(|e| e["event"] == "finished")
            .unwrap_or_else(|| panic!("{ev:?}"));
        assert_eq!(finished["success"], false);
        assert_eq!(
            finished["message"],
            "Tracked path /etc/escape/secret: etc/escape is not a directory (symlinks are not followed)"
        );
        assert_eq!(boot_entries(bed), before);
    });
}

#[test]
fn absurdly_long_arguments_are_refused_at_once() {
    with_bed(Options::default(), |bed| {
        let huge = "r".repeat(300 * 1024);
        let args = glib::Variant::tuple_from_iter([
            glib::VariantDict::new(None).end(),
            huge.to_variant(),
            Vec::<String>::new().to_variant(),
        ]);
        let e = call(&bed.conn, OS_PATH, IFACE_OS, "Rebase", Some(&args)).unwrap_err();
        assert_eq!(error_name(&e), "org.freedesktop.DBus.Error.InvalidArgs");
        assert!(
            error_message(&e).contains("Argument too long (307200 bytes"),
            "{}",
            error_message(&e)
        );
        let long = format!("testremote:{}", "b".repeat(5000));
        let args = glib::Variant::tuple_from_iter([
            glib::VariantDict::new(None).end(),
            long.to_variant(),
            Vec::<String>::new().to_variant(),
        ]);
        let e = call(&bed.conn, OS_PATH, IFACE_OS, "Rebase", Some(&args)).unwrap_err();
        assert!(
            error_message(&e).contains("Refspec is too long"),
            "{}",
            error_message(&e)
        );
        let d = glib::VariantDict::new(None);
        d.insert("revision", "c".repeat(5000).as_str());
        let args = glib::Variant::tuple_from_iter([
            d.end(),
            "testremote:testos/other/x86_64".to_variant(),
            Vec::<String>::new().to_variant(),
        ]);
        let e = call(&bed.conn, OS_PATH, IFACE_OS, "Rebase", Some(&args)).unwrap_err();
        assert!(
            error_message(&e).contains("Revision is too long"),
            "{}",
            error_message(&e)
        );
        assert_eq!(bed.sysroot_props()["ActiveTransactionPath"].str(), Some(""));
    });
}

#[test]
fn a_production_start_ignores_the_test_hooks_and_its_umask() {
    use std::os::unix::fs::PermissionsExt;
    let opts = Options {
        production: true,
        umask_000: true,
        no_daemon: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let run = std::path::Path::new("/run/rpm-ostree");
        if run.is_dir() {
            std::fs::set_permissions(run, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        bed.start_daemon();
        let log = std::fs::read_to_string(bed.tb.join("daemon.log")).unwrap();
        assert!(
            log.contains(
                "Ignoring RPMOSTREE_TEST_CONFIG, RPMOSTREE_TEST_IDLE_JITTER_MAX_S, \
                 RPMOSTREE_TEST_INSECURE_LOOPBACK_REGISTRIES, RPMOSTREE_TEST_REBOOT_COMMAND, \
                 RPMOSTREE_TEST_RUNTIME_DIR: test hooks are read only by `start-daemon \
                 --test-hooks`"
            ),
            "{log}"
        );
        let mode = std::fs::metadata(run).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o755);
        // The transaction socket is where production puts it.
        let address = start_call(
            &bed.conn,
            OS_PATH,
            "Cleanup",
            &(vec!["repomd"],).to_variant(),
        )
        .unwrap();
        assert!(
            address.starts_with("unix:path=/run/rpm-ostree/transaction-"),
            "{address}"
        );
        let t = Txn::connect(&address).unwrap();
        assert!(t.start().unwrap());
        let (ok, msg) = t.wait_finished(DEADLINE).expect("Finished");
        assert!(ok, "{msg}");
    });
}

#[test]
fn a_flood_of_peers_is_capped_and_the_transaction_goes_on() {
    let opts = Options {
        http_delay_ms: Some(400),
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.add_http_remote("slow");
        bed.set_head(2);
        let d = glib::VariantDict::new(None);
        let args = glib::Variant::tuple_from_iter([
            d.end(),
            "slow:testos/stable/x86_64".to_variant(),
            Vec::<String>::new().to_variant(),
        ]);
        let address = start_call(&bed.conn, OS_PATH, "Rebase", &args).unwrap();
        let t = Txn::connect(&address).unwrap();
        assert!(t.start().unwrap());
        let daemon = bed.daemon_pid().unwrap();
        let fds = || {
            std::fs::read_dir(format!("/proc/{daemon}/fd"))
                .unwrap()
                .count()
        };
        let fds_before = fds();
        let script = bed.project_path("tests/clients/peer_flood.py");
        let mut flood = with_pdeathsig(&mut bed.command(&[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            script.as_str(),
            address.as_str(),
            "1000",
        ]))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(flood.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let report: serde_json::Value = serde_json::from_str(&line).expect(&line);
        assert!(report["open"].as_u64().unwrap() <= 8, "{report}");
        assert!(
            fds() < fds_before + 40,
            "{} fds, {fds_before} before",
            fds()
        );
        // Root (and the initiator) still attach, while nobody's peers are held.
        let root = Txn::connect(&address).unwrap();
        drop(root);
        let (ok, msg) = t.wait_finished(DEADLINE).expect("Finished");
        assert!(ok, "{msg}");
        drop(flood.stdin.take());
        assert!(wait_pid_exit(flood.id() as i32, DEADLINE));
        let _ = flood.wait();
        let log = std::fs::read_to_string(bed.tb.join("daemon.log")).unwrap();
        assert_eq!(
            log.matches("Refusing more transaction peers of uid 65534")
                .count(),
            1,
            "{log}"
        );
        assert!(
            log.lines().count() < 200,
            "{} log lines",
            log.lines().count()
        );
    });
}

/// The logind stand-in with `locks`, until dropped.
struct Logind(std::process::Child);

impl Logind {
    fn start(bed: &Bed, locks: &str) -> Self {
        let mut child = with_pdeathsig(
            std::process::Command::new("/usr/bin/python3")
                .arg(testbed("logind.py"))
                .arg(locks)
                .env("DBUS_SYSTEM_BUS_ADDRESS", &bed.bus_address)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped()),
        )
        .spawn()
        .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ready");
        Self(child)
    }
}

impl Drop for Logind {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_blocking_shutdown_inhibitor_stops_finalization_and_reboots() {
    let opts = Options {
        booted: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        bed.set_head(2);
        let v2 = bed.world("CSUM_V2");
        let (code, _, err) = bed.cli(&["upgrade", "--lock-finalization"]);
        assert_eq!(code, 0, "{err}");
        let lock = bed.tb.join("run/ostree/staged-deployment-locked");
        assert!(lock.exists());
        let logind = Logind::start(
            bed,
            r#"[["sleep", "Sleeper", "Napping", "block", 0, 1],
                ["shutdown", "Delayer", "Saving", "delay", 0, 1],
                ["shutdown:sleep", "Backup tool", "Copying files", "block", 1000, 42]]"#,
        );
        let text = "Reboot blocked by a systemd inhibitor lock in `block` mode\n\
                    Held by: Backup tool\nReason: Copying files";
        let (code, _, err) = bed.cli(&["finalize-deployment", &v2]);
        assert_eq!(code, 1);
        assert!(err.contains(text), "{err}");
        assert!(lock.exists(), "the deployment stays locked");
        // Any reboot asked for is refused before the work.
        let before = bed.ostree(&["admin", "status"]);
        let (code, _, err) = bed.cli(&["kargs", "--append=tp.x=1", "--reboot"]);
        assert_eq!(code, 1);
        assert!(err.contains(text), "{err}");
        assert_eq!(bed.ostree(&["admin", "status"]), before);
        assert!(!bed.tb.join("rebooted").exists(), "nothing rebooted");
        // Once the lock is gone, finalization reboots.
        drop(logind);
        let (code, _, err) = bed.cli(&["finalize-deployment", &v2]);
        assert_eq!(code, 0, "{err}");
        assert!(bed.wait_rebooted(), "no reboot");
    });
}
