//! The repository prune that follows a new deployment (libostree's, in a
//! helper, overlapping the staging when booted) and `cleanup -b`: it deletes
//! what nothing reaches, keeps every reachable object (`ostree fsck` passes),
//! and leaves nothing libostree's own refs-only prune would still delete.

mod common;

use common::*;
use std::process::Command;

fn repo_arg(bed: &Bed) -> String {
    format!("--repo={}", bed.sysroot().join("ostree/repo").display())
}

fn ostree_repo(bed: &Bed, args: &[&str]) -> (bool, String) {
    let out = Command::new("ostree")
        .arg(repo_arg(bed))
        .args(args)
        .output()
        .expect("running ostree");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn has_commit(bed: &Bed, csum: &str) -> bool {
    ostree_repo(bed, &["show", csum]).0
}

/// Pulls version 3 by checksum, with no ref: all of its own objects are garbage.
fn leave_garbage(bed: &Bed) -> String {
    let v3 = bed.world("CSUM_V3");
    let (ok, out) = ostree_repo(bed, &["pull", "testremote", &v3]);
    assert!(ok, "{out}");
    assert!(has_commit(bed, &v3));
    v3
}

/// What libostree thinks of the repository now: intact, and nothing to prune.
fn assert_pruned_and_intact(bed: &Bed) {
    let (ok, out) = ostree_repo(bed, &["fsck"]);
    assert!(ok, "fsck: {out}");
    let (ok, out) = ostree_repo(bed, &["prune", "--refs-only", "--depth=0", "--no-prune"]);
    assert!(ok, "{out}");
    assert!(out.contains("No unreachable objects"), "{out}");
}

fn upgrade_prunes(booted: bool) {
    with_bed(
        Options {
            booted,
            ..Default::default()
        },
        |bed| {
            bed.set_head(1);
            let v3 = leave_garbage(bed);
            bed.set_head(2);
            let (code, out, err) = bed.cli(&["upgrade"]);
            assert_eq!(code, 0, "{out}{err}");
            assert!(out.contains("Freed: "), "{out}");
            assert!(!has_commit(bed, &v3), "the unreachable commit is gone");
            assert!(has_commit(bed, &bed.world("CSUM_V1")));
            assert!(has_commit(bed, &bed.world("CSUM_V2")));
            assert_pruned_and_intact(bed);
            // A prune with nothing to delete says nothing about it.
            let (code, out, err) = bed.cli(&["cleanup", "-b"]);
            assert_eq!(code, 0, "{out}{err}");
            assert!(!out.contains("Freed"), "{out}");
        },
    );
}

#[test]
fn upgrade_booted_prunes_while_staging() {
    upgrade_prunes(true);
}

#[test]
fn upgrade_offline_prunes() {
    upgrade_prunes(false);
}

#[test]
fn cleanup_base_prunes_and_keeps_every_deployment() {
    with_bed(Options::default(), |bed| {
        bed.set_head(2);
        let (code, out, err) = bed.cli(&["upgrade"]);
        assert_eq!(code, 0, "{out}{err}");
        let v3 = leave_garbage(bed);
        // Detached metadata goes with its commit (an empty a{sv} is zero bytes).
        let meta = bed.sysroot().join(format!(
            "ostree/repo/objects/{}/{}.commitmeta",
            &v3[..2],
            &v3[2..]
        ));
        std::fs::write(&meta, b"").unwrap();
        let (code, out, err) = bed.cli(&["cleanup", "-b"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("Freed: "), "{out}");
        assert!(!has_commit(bed, &v3));
        assert!(!meta.exists());
        // Both deployments (v2 and the rollback v1) are intact.
        assert!(has_commit(bed, &bed.world("CSUM_V1")));
        assert!(has_commit(bed, &bed.world("CSUM_V2")));
        assert_pruned_and_intact(bed);
    });
}
