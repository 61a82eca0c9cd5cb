//! The test bed itself: it is torn down completely, also when a test panics.

mod common;

use common::*;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

fn mounts_under(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(String::from))
        .filter(|m| m.starts_with(dir.to_str().unwrap()))
        .collect()
}

/// Gone, or a zombie waiting for a late reaper (it runs no code any more).
fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[test]
fn a_panicking_test_leaves_no_process_mount_or_directory() {
    let mut seen: Option<(PathBuf, Vec<i32>)> = None;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        with_bed(
            Options {
                booted: true,
                polkit: true,
                http: true,
                ..Default::default()
            },
            |bed| {
                assert!(!mounts_under(&bed.tb).is_empty());
                let pids = bed.pids();
                assert!(
                    pids.len() >= 5,
                    "bus, polkitd, httpd, namespace, daemon: {pids:?}"
                );
                seen = Some((bed.tb.clone(), pids));
                panic!("a deliberate failure");
            },
        )
    }));
    assert!(outcome.is_err());
    let (tb, pids) = seen.expect("the bed was built");
    assert!(!tb.exists(), "{} left behind", tb.display());
    assert!(mounts_under(&tb).is_empty(), "{:?}", mounts_under(&tb));
    for pid in pids {
        assert!(process_gone(pid), "process {pid} left behind");
    }
}

#[test]
fn reboot_boots_the_default_entry() {
    with_bed(
        Options {
            booted: true,
            ..Default::default()
        },
        |bed| {
            bed.set_head(2);
            bed.ostree(&["admin", "upgrade", "--os=testos"]);
            bed.reboot();
            let booted: Dict = bed.os_props()["BootedDeployment"].get().unwrap();
            assert_eq!(dict_str(&booted, "checksum"), Some(bed.world("CSUM_V2")));
        },
    );
}
