//! librpmostree-1 as a C client sees it: the library (built by cargo, the
//! workspace crate crates/librpmostree) installed into a staging prefix with
//! its headers and `rpm-ostree-1.pc` the way meson installs them, a C program
//! (crates/librpmostree/tests/c/client.c) compiled with
//! `cc $(pkg-config --cflags --libs rpm-ostree-1)`, and its package lists and
//! diffs of the test bed's commits compared with `rpm-ostree db list|diff`.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The library's crate directory.
fn crate_dir() -> PathBuf {
    project_root().join("crates/librpmostree")
}

/// The C library cargo built (as a dependency of this test: `deps/`).
fn built_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps, deps.parent().unwrap()]
        .iter()
        .map(|d| d.join("librpmostree1.so"))
        .find(|p| p.is_file())
        .expect("cargo builds librpmostree1.so with the tests")
}

/// `template` with each `@KEY@` replaced.
fn configure(template: &Path, out: &Path, vars: &[(&str, &str)]) {
    let mut text = std::fs::read_to_string(template).unwrap();
    for (k, v) in vars {
        text = text.replace(&format!("@{k}@"), v);
    }
    assert!(
        !text.contains('@'),
        "{}: unsubstituted @",
        template.display()
    );
    std::fs::write(out, text).unwrap();
}

/// Installs the library, its headers and its .pc into `prefix` as meson.build
/// does (lib/, include/rpm-ostree-1/, lib/pkgconfig/).
fn stage(prefix: &Path) {
    let (lib, inc) = (prefix.join("lib"), prefix.join("include/rpm-ostree-1"));
    std::fs::create_dir_all(lib.join("pkgconfig")).unwrap();
    std::fs::create_dir_all(&inc).unwrap();
    std::fs::copy(built_library(), lib.join("librpmostree-1.so.1.0.0")).unwrap();
    std::os::unix::fs::symlink("librpmostree-1.so.1.0.0", lib.join("librpmostree-1.so.1")).unwrap();
    std::os::unix::fs::symlink("librpmostree-1.so.1", lib.join("librpmostree-1.so")).unwrap();
    let headers = crate_dir().join("include/rpm-ostree-1");
    for h in ["rpmostree.h", "rpmostree-db.h", "rpmostree-package.h"] {
        std::fs::copy(headers.join(h), inc.join(h)).unwrap();
    }
    let version = env!("CARGO_PKG_VERSION");
    let (year, rest) = version.split_once('.').unwrap();
    let release = rest.split('.').next().unwrap();
    let short = format!("{year}.{release}");
    configure(
        &headers.join("rpmostree-version.h.in"),
        &inc.join("rpmostree-version.h"),
        &[
            ("YEAR_VERSION", year),
            ("RELEASE_VERSION", release),
            ("VERSION", &short),
        ],
    );
    let p = prefix.display().to_string();
    configure(
        &crate_dir().join("rpm-ostree-1.pc.in"),
        &lib.join("pkgconfig/rpm-ostree-1.pc"),
        &[
            ("prefix", &p),
            ("libdir", &format!("{p}/lib")),
            ("includedir", &format!("{p}/include")),
            ("VERSION", version),
        ],
    );
}

/// Compiles the C client against the staged prefix, as a client's build does.
fn compile_client(prefix: &Path) -> PathBuf {
    let pc_path = prefix.join("lib/pkgconfig");
    let flags = run_ok(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", &pc_path)
            .args(["--cflags", "--libs", "rpm-ostree-1"]),
    );
    assert!(flags.contains("-lrpmostree-1"), "{flags}");
    let modversion = run_ok(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", &pc_path)
            .args(["--modversion", "rpm-ostree-1"]),
    );
    assert_eq!(modversion.trim(), env!("CARGO_PKG_VERSION"));
    let exe = prefix.join("client");
    run_ok(
        Command::new("cc")
            .args(["-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(crate_dir().join("tests/c/client.c"))
            .args(flags.split_whitespace()),
    );
    let needed = run_ok(Command::new("readelf").arg("-d").arg(&exe));
    assert!(needed.contains("[librpmostree-1.so.1]"), "{needed}");
    exe
}

/// Runs the client with the staged library; (exit code, stdout, stderr).
fn client(prefix: &Path, args: &[&str]) -> (i32, String, String) {
    run(Command::new(prefix.join("client"))
        .env("LD_LIBRARY_PATH", prefix.join("lib"))
        .args(args))
}

#[test]
fn the_library_exports_upstreams_twelve_functions_under_its_soname() {
    let lib = built_library();
    let symbols = run_ok(Command::new("nm").args(["-D", "--defined-only"]).arg(&lib));
    let mut names: Vec<&str> = symbols
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "rpm_ostree_check_version",
            "rpm_ostree_db_diff",
            "rpm_ostree_db_diff_ext",
            "rpm_ostree_db_query_all",
            "rpm_ostree_get_basearch",
            "rpm_ostree_package_cmp",
            "rpm_ostree_package_get_arch",
            "rpm_ostree_package_get_evr",
            "rpm_ostree_package_get_name",
            "rpm_ostree_package_get_nevra",
            "rpm_ostree_package_get_type",
            "rpm_ostree_varsubst_basearch",
        ]
    );
    let dynamic = run_ok(Command::new("readelf").arg("-d").arg(&lib));
    assert!(
        dynamic.contains("Library soname: [librpmostree-1.so.1]"),
        "{dynamic}"
    );
    // It links no daemon code: neither libdnf nor polkit.
    let ldd = run_ok(Command::new("ldd").arg(&lib));
    assert!(!ldd.contains("libdnf") && !ldd.contains("polkit"), "{ldd}");
}

#[test]
fn a_c_client_lists_and_diffs_commits_as_db_list_and_db_diff_do() {
    let opts = Options {
        no_daemon: true,
        ..Options::default()
    };
    with_bed(opts, |bed| {
        let prefix = bed.tb.join("prefix");
        stage(&prefix);
        compile_client(&prefix);
        let remote = bed.world("REMOTE");
        let system = bed.sysroot().join("ostree/repo").display().to_string();
        let (v1, v2, v3) = (
            bed.world("CSUM_V1"),
            bed.world("CSUM_V2"),
            bed.world("CSUM_V3"),
        );
        let db = |args: &[&str]| run_ok(Command::new(BIN).arg("db").args(args));
        // Lists: the archive remote (objects read as streams), a branch name,
        // and the bare system repository (object files opened directly).
        for (repo, rev) in [
            (&remote, v1.as_str()),
            (&remote, v3.as_str()),
            (&remote, "testos/stable/x86_64"),
            (&system, v1.as_str()),
        ] {
            let (code, out, err) = client(&prefix, &["list", repo, rev]);
            assert_eq!(code, 0, "{err}");
            let listed = db(&["list", "-r", repo, rev]);
            let expected: String = listed.lines().skip(1).map(|l| format!("{l}\n")).collect();
            assert!(expected.lines().count() > 5, "{listed}");
            assert_eq!(out, expected, "{rev}");
        }
        // Diffs, both ways: `db diff`'s block without its two header lines.
        for (from, to) in [(&v1, &v3), (&v3, &v1), (&v1, &v2), (&v2, &v2)] {
            let (code, out, err) = client(&prefix, &["diff", &remote, from, to]);
            assert_eq!(code, 0, "{err}");
            let block = db(&["diff", "-r", &remote, from, to]);
            let expected: String = block.lines().skip(2).map(|l| format!("{l}\n")).collect();
            assert_eq!(out, expected, "{from} -> {to}");
        }
        let (_, out, _) = client(&prefix, &["diff", &remote, &v1, &v3]);
        assert!(
            out.contains("Downgraded:\n  tp-base-b 2.0-1 -> 1.5-1\n"),
            "{out}"
        );
        // A commit without any package database.
        let tree = bed.tb.join("empty-tree");
        std::fs::create_dir_all(tree.join("usr/bin")).unwrap();
        let empty = run_ok(Command::new("ostree").args([
            &format!("--repo={remote}"),
            "commit",
            "--branch=empty",
            &format!("--tree=dir={}", tree.display()),
        ]));
        let (code, out, err) = client(&prefix, &["noent", &remote, empty.trim()]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with("Loading package list: No package database found"),
            "{out}"
        );
        let (code, _, err) = client(&prefix, &["list", &remote, "no/such/ref"]);
        assert_eq!(code, 1);
        assert!(
            err.contains("Loading package list: Refspec 'no/such/ref' not found"),
            "{err}"
        );
        // Types, versions, basearch.
        let (code, out, err) = client(&prefix, &["api"]);
        assert_eq!(code, 0, "{err}");
        let arch = rpmostree_pkglist::arch::basearch();
        let (year, rest) = env!("CARGO_PKG_VERSION").split_once('.').unwrap();
        let release = rest.split('.').next().unwrap();
        assert_eq!(
            out.trim(),
            format!("{year}.{release} {arch} Unknown variable reference ${{releasever}}")
        );
    });
}
