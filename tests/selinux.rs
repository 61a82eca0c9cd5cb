//! SELinux labels of layered packages: on a tree with a policy (the test
//! bed's selinux-branch.sh), what layering adds is labelled with it (`/usr/etc`
//! as `/etc`, what scripts write too), the pkgcache records the policy, and
//! a new policy relabels cached packages without downloading them again.

mod common;

use common::layer::*;
use common::rpmmd::*;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const BRANCH: &str = "testos/selinux/x86_64";
const TP_TOOL: &str = "rpmostree/pkg/tp-tool/1.0-1.noarch";

/// The label of `path` (its `security.selinux`, without the NUL).
fn label(path: &Path) -> String {
    run_ok(Command::new("/usr/bin/python3").args([
        "-c",
        "import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], 'security.selinux', follow_symlinks=False).rstrip(b'\\0').decode())",
        &path.display().to_string(),
    ]))
}

fn new_root(bed: &Bed) -> PathBuf {
    root_of(bed, &deployments(bed)[0])
}

fn sepolicy_of_cached(bed: &Bed) -> String {
    ostree_repo(
        bed,
        &["show", "--print-metadata-key=rpmostree.sepolicy", TP_TOOL],
    )
}

fn selinux_branch(bed: &Bed, bin_type: &str, date: &str) {
    run_ok(
        Command::new(testbed("selinux-branch.sh"))
            .arg(&bed.tb)
            .args([BRANCH, bin_type, date]),
    );
}

#[test]
fn a_policy_in_the_tree_labels_what_is_layered() {
    with_bed(Options::default(), |bed| {
        let rpmmd = make_repo(
            bed,
            "tp-main",
            &["tp-app-1.0-1", "tp-lib-1.0-1", "tp-tool-1.0-1"],
        );
        let served = serve(bed, &rpmmd, &[]);
        // Written before the rebase: the new deployment's /etc is merged.
        write_repo_file(
            bed,
            "test.repo",
            &repo_section("tp-main", &served.url(), ""),
        );
        selinux_branch(bed, "bin_t", "2024-03-01");
        ok(bed, &["rebase", BRANCH]);
        // No script: laid over the labelled base.
        ok(bed, &["install", "tp-tool"]);
        let root = new_root(bed);
        assert_eq!(
            label(&root.join("usr/bin/tp-tool")),
            "system_u:object_r:bin_t:s0"
        );
        assert_eq!(
            label(&root.join("usr/bin/sh")),
            "system_u:object_r:bin_t:s0"
        );
        let first_policy = sepolicy_of_cached(bed);
        assert!(first_policy.trim().len() > 2, "{first_policy}");
        // Scripts run: a checkout, committed with labels for what is new.
        ok(bed, &["install", "tp-app"]);
        let root = new_root(bed);
        assert_eq!(
            label(&root.join("usr/etc/tp-app.conf")),
            "system_u:object_r:etc_t:s0"
        );
        assert_eq!(
            label(&root.join("usr/share/tp-app/post-ran")),
            "system_u:object_r:default_t:s0"
        );
        assert_eq!(
            label(&root.join("usr/bin/tp-ping")),
            "system_u:object_r:bin_t:s0"
        );
        assert_eq!(
            label(&root.join("usr/share/rpm/rpmdb.sqlite")),
            "system_u:object_r:default_t:s0"
        );
        // Another policy: the cached packages are labelled again, not fetched.
        let rpms = served
            .requests()
            .iter()
            .filter(|r| r.ends_with(".rpm"))
            .count();
        selinux_branch(bed, "bin2_t", "2024-03-02");
        ok(bed, &["upgrade"]);
        let root = new_root(bed);
        assert_eq!(
            label(&root.join("usr/bin/tp-tool")),
            "system_u:object_r:bin2_t:s0"
        );
        assert_eq!(
            label(&root.join("usr/bin/tp-ping")),
            "system_u:object_r:bin2_t:s0"
        );
        let caps = run_ok(Command::new("/usr/bin/python3").args([
            "-c",
            "import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], 'security.capability').hex())",
            &root.join("usr/bin/tp-ping").display().to_string(),
        ]));
        assert_eq!(
            caps, "0100000200200000000000000000000000000000",
            "the relabel kept the caps"
        );
        assert_ne!(sepolicy_of_cached(bed), first_policy);
        assert_eq!(
            served
                .requests()
                .iter()
                .filter(|r| r.ends_with(".rpm"))
                .count(),
            rpms
        );
        fsck(bed);
    });
}
