//! The constants of this crate against libdnf's own headers: a C program
//! prints each one and the values must agree. The headers include librepo's
//! and librpm's, whose development files Debian's libdnf-dev does not pull
//! in; small stubs declare the opaque types they need.

use std::path::Path;
use std::process::Command;

const STUBS: &[(&str, &str)] = &[
    (
        "librepo/librepo.h",
        "typedef struct _LrHandle LrHandle; typedef struct _LrResult LrResult;",
    ),
    (
        "rpm/rpmts.h",
        "typedef struct rpmts_s *rpmts; typedef struct headerToken_s *Header;",
    ),
    (
        "rpm/rpmkeyring.h",
        "typedef struct rpmKeyring_s *rpmKeyring; typedef struct rpmPubkey_s *rpmPubkey;",
    ),
];

fn pkg_config_cflags() -> Vec<String> {
    let out = Command::new("pkg-config")
        .args(["--cflags", "glib-2.0", "gobject-2.0", "gio-2.0"])
        .output()
        .expect("pkg-config");
    assert!(out.status.success(), "pkg-config failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn constants_match_the_headers() {
    let ours: &[(&str, i64)] = &[
        ("HY_PKG_ARCH", dnf_sys::HY_PKG_ARCH.into()),
        ("HY_PKG_FILE", dnf_sys::HY_PKG_FILE.into()),
        ("DNF_INSTALL", dnf_sys::DNF_INSTALL.into()),
        ("DNF_ALLOW_UNINSTALL", dnf_sys::DNF_ALLOW_UNINSTALL.into()),
        ("DNF_IGNORE_WEAK_DEPS", dnf_sys::DNF_IGNORE_WEAK_DEPS.into()),
        ("HY_PKG_NAME", dnf_sys::HY_PKG_NAME.into()),
        ("HY_PKG_PROVIDES", dnf_sys::HY_PKG_PROVIDES.into()),
        ("HY_PKG_REPONAME", dnf_sys::HY_PKG_REPONAME.into()),
        ("HY_PKG_SUMMARY", dnf_sys::HY_PKG_SUMMARY.into()),
        ("HY_ICASE", dnf_sys::HY_ICASE.into()),
        ("HY_NOT", dnf_sys::HY_NOT.into()),
        ("HY_EQ", dnf_sys::HY_EQ.into()),
        ("HY_SUBSTR", dnf_sys::HY_SUBSTR.into()),
        ("HY_GLOB", dnf_sys::HY_GLOB.into()),
        (
            "DNF_CONTEXT_SETUP_SACK_FLAG_NONE",
            dnf_sys::DNF_CONTEXT_SETUP_SACK_FLAG_NONE.into(),
        ),
        (
            "DNF_CONTEXT_SETUP_SACK_FLAG_SKIP_RPMDB",
            dnf_sys::DNF_CONTEXT_SETUP_SACK_FLAG_SKIP_RPMDB.into(),
        ),
        (
            "DNF_CONTEXT_SETUP_SACK_FLAG_SKIP_FILELISTS",
            dnf_sys::DNF_CONTEXT_SETUP_SACK_FLAG_SKIP_FILELISTS.into(),
        ),
        (
            "DNF_CONTEXT_SETUP_SACK_FLAG_LOAD_UPDATEINFO",
            dnf_sys::DNF_CONTEXT_SETUP_SACK_FLAG_LOAD_UPDATEINFO.into(),
        ),
        (
            "DNF_REPO_ENABLED_NONE",
            dnf_sys::DNF_REPO_ENABLED_NONE.into(),
        ),
        (
            "DNF_REPO_ENABLED_PACKAGES",
            dnf_sys::DNF_REPO_ENABLED_PACKAGES.into(),
        ),
        (
            "DNF_REPO_ENABLED_METADATA",
            dnf_sys::DNF_REPO_ENABLED_METADATA.into(),
        ),
        (
            "DNF_REPO_UPDATE_FLAG_NONE",
            dnf_sys::DNF_REPO_UPDATE_FLAG_NONE.into(),
        ),
        (
            "DNF_REPO_UPDATE_FLAG_FORCE",
            dnf_sys::DNF_REPO_UPDATE_FLAG_FORCE.into(),
        ),
        ("DNF_REPO_KIND_REMOTE", dnf_sys::DNF_REPO_KIND_REMOTE.into()),
        ("DNF_REPO_KIND_MEDIA", dnf_sys::DNF_REPO_KIND_MEDIA.into()),
        ("DNF_REPO_KIND_LOCAL", dnf_sys::DNF_REPO_KIND_LOCAL.into()),
        (
            "DNF_ERROR_CANNOT_FETCH_SOURCE",
            dnf_sys::DNF_ERROR_CANNOT_FETCH_SOURCE.into(),
        ),
        (
            "DNF_ERROR_REPO_NOT_AVAILABLE",
            dnf_sys::DNF_ERROR_REPO_NOT_AVAILABLE.into(),
        ),
    ];
    let dir = std::env::temp_dir().join(format!("dnf-sys-constants-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in STUBS {
        let p = dir.join("stub").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mut c = String::from("#include <libdnf/libdnf.h>\n#include <stdio.h>\nint main(void) {\n");
    for (name, _) in ours {
        c.push_str(&format!(
            "  printf(\"{name} %lld\\n\", (long long) {name});\n"
        ));
    }
    c.push_str("  return 0;\n}\n");
    std::fs::write(dir.join("c.c"), c).unwrap();
    let exe = dir.join("c");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .arg(dir.join("c.c"))
        .arg(format!("-I{}", dir.join("stub").display()))
        .args(pkg_config_cflags())
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "compiling against the libdnf headers failed"
    );
    let out = Command::new(Path::new(&exe)).output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let theirs: Vec<(String, i64)> = text
        .lines()
        .map(|l| {
            let (n, v) = l.split_once(' ').unwrap();
            (n.to_string(), v.parse().unwrap())
        })
        .collect();
    let ours: Vec<(String, i64)> = ours.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    assert_eq!(ours, theirs);
}
