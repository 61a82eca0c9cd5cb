//! What the layering tests share: a bed with a served repository, the
//! sysroot's state to compare before and after, the pkgcache, deployments
//! and what their trees hold, and the CLI's success or failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::rpmmd::*;
use super::*;

pub const APP: &[&str] = &["tp-app-1.0-1", "tp-lib-1.0-1", "tp-tool-1.0-1"];

/// A bed with the repository `tp-main` (`pkgs`), served over HTTP with a
/// request log.
pub fn with_repo<R>(opts: Options, pkgs: &[&str], body: impl FnOnce(&Bed, &Served) -> R) -> R {
    with_bed(opts, |bed| {
        let repo = make_repo(bed, "tp-main", pkgs);
        let served = serve(bed, &repo, &[]);
        write_repo_file(
            bed,
            "test.repo",
            &repo_section("tp-main", &served.url(), ""),
        );
        body(bed, &served)
    })
}

pub fn repo_path(bed: &Bed) -> String {
    bed.sysroot().join("ostree/repo").display().to_string()
}

/// What must not change when a layering fails.
pub fn snapshot(bed: &Bed) -> (String, Vec<String>) {
    let deploy = bed.sysroot().join("ostree/deploy/testos/deploy");
    let mut dirs: Vec<String> = std::fs::read_dir(deploy)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    (bed.ostree(&["admin", "status"]), dirs)
}

/// `ostree ARGS --repo=<the sysroot's repo>`, from the host.
pub fn ostree_repo(bed: &Bed, args: &[&str]) -> String {
    run_ok(
        Command::new("ostree")
            .args(args)
            .arg(format!("--repo={}", repo_path(bed))),
    )
}

pub fn fsck(bed: &Bed) {
    let out = ostree_repo(bed, &["fsck"]);
    assert!(out.contains("no errors found"), "{out}");
}

pub fn pkgcache_refs(bed: &Bed) -> Vec<String> {
    let out = ostree_repo(bed, &["refs"]);
    let mut refs: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("rpmostree/pkg/"))
        .map(String::from)
        .collect();
    refs.sort();
    refs
}

pub fn deployments(bed: &Bed) -> Vec<Dict> {
    bed.sysroot_props()["Deployments"].get().unwrap()
}

/// The checkout of the deployment `d` (a deployment dict).
pub fn root_of(bed: &Bed, d: &Dict) -> PathBuf {
    let csum = dict_str(d, "checksum").unwrap();
    let serial = d["serial"].get::<i32>().unwrap();
    bed.sysroot()
        .join(format!("ostree/deploy/testos/deploy/{csum}.{serial}"))
}

pub fn rpm_qa(root: &Path) -> Vec<String> {
    let out = run_ok(Command::new("rpm").args([
        "-qa",
        "--root",
        &root.display().to_string(),
        "--dbpath",
        "/usr/share/rpm",
        "--qf",
        "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n",
    ]));
    let mut v: Vec<String> = out.lines().map(String::from).collect();
    v.sort();
    v
}

pub fn xattr(path: &Path, name: &str) -> Vec<u8> {
    let out = run_ok(Command::new("/usr/bin/python3").args([
        "-c",
        "import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).hex())",
        &path.display().to_string(),
        name,
    ]));
    (0..out.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&out[i..i + 2], 16).unwrap())
        .collect()
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

pub fn ok(bed: &Bed, args: &[&str]) -> String {
    let (code, out, err) = bed.cli(args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

pub fn fails(bed: &Bed, args: &[&str]) -> String {
    let (code, out, err) = bed.cli(args);
    assert_eq!(code, 1, "{args:?}: {out}{err}");
    err
}

/// No layering scratch directory is left in the repository's tmp, and
/// nothing is mounted below it.
pub fn no_layer_workdirs(bed: &Bed) {
    let tmp = bed.sysroot().join("ostree/repo/tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("rpmostree-layer-")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&tmp.display().to_string()), "{mounts}");
}
