//! `make fuzz`: seeded random calls (tests/clients/fuzz.py) over every method
//! of the Sysroot and OS interfaces, well-typed and ill-typed, as root and as
//! an unprivileged user, against the daemon on the test bed with a real
//! polkitd. The daemon must never die or hang, keep its fd count flat, and
//! leave `ostree fsck` clean. Ignored by `cargo test`; `make fuzz` runs it
//! with FUZZ_SEED and FUZZ_CALLS (per user) and prints the figures.

mod common;

use common::*;

fn status_kib(pid: i32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
#[ignore = "run by `make fuzz`"]
fn fuzzed_calls_never_crash_or_hang_the_daemon() {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let calls: u64 = std::env::var("FUZZ_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let opts = Options {
        polkit: true,
        ..Default::default()
    };
    with_bed(opts, |bed| {
        let daemon = bed.daemon_pid().unwrap();
        let (fd0, anon0) = (fds(daemon), status_kib(daemon, "RssAnon"));
        let xml = bed.project_path("data/org.projectatomic.rpmostree1.xml");
        let script = bed.project_path("tests/clients/fuzz.py");
        let mut reports = Vec::new();
        for (who, prefix) in [
            ("root", vec![]),
            (
                "nobody",
                vec![
                    "setpriv",
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                ],
            ),
        ] {
            let seed_s = (seed + reports.len() as u64).to_string();
            let calls_s = calls.to_string();
            let mut argv = prefix.clone();
            argv.extend([
                "/usr/bin/python3",
                script.as_str(),
                xml.as_str(),
                seed_s.as_str(),
                calls_s.as_str(),
            ]);
            let t0 = std::time::Instant::now();
            let out = run_ok(&mut bed.command(&argv));
            let report: serde_json::Value = serde_json::from_str(out.trim()).expect(&out);
            assert_eq!(
                bed.daemon_pid(),
                Some(daemon),
                "the daemon died during {who}'s calls"
            );
            assert_eq!(report["hangs"], 0, "{who}: {report}");
            println!(
                "fuzz {who}: {report} in {:.1} s",
                t0.elapsed().as_secs_f64()
            );
            reports.push(report);
        }
        // Whatever transactions the calls created are abandoned, then idle.
        assert!(iterate_until(std::time::Duration::from_secs(60), || bed
            .sysroot_props()["ActiveTransactionPath"]
            .str()
            == Some("")));
        let (fd1, anon1) = (fds(daemon), status_kib(daemon, "RssAnon"));
        println!(
            "fuzz daemon: fds {fd0} -> {fd1}, RssAnon {anon0} -> {anon1} kB, crashes 0, hangs 0"
        );
        assert!(fd1 <= fd0 + 4, "fds {fd0} -> {fd1}");
        let fsck = run_ok(std::process::Command::new("ostree").args([
            "fsck",
            &format!("--repo={}", bed.sysroot().join("ostree/repo").display()),
        ]));
        assert!(fsck.contains("no errors found"), "{fsck}");
    });
}
