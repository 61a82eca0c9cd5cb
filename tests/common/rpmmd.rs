//! rpm-md repositories for the test bed: the test RPMs (tests/testbed/rpms),
//! repositories made of them with createrepo_c, served over HTTP with a
//! request log, and `.repo` files in the deployment's `/etc/yum.repos.d`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Bed, run_ok, testbed};

/// Builds (once per bed; the RPMs themselves are cached across runs) the
/// test RPMs; returns their directory.
pub fn rpms(bed: &Bed) -> PathBuf {
    let dir = bed.tb.join("rpms");
    if !dir.is_dir() {
        run_ok(Command::new(testbed("rpms/build.sh")).arg(&dir));
    }
    dir
}

/// The file of package `nvr` (`name-version-release`) among the test RPMs.
pub fn rpm(bed: &Bed, nvr: &str) -> PathBuf {
    rpms(bed).join(format!("{nvr}.noarch.rpm"))
}

/// Makes the rpm-md repository `name` (under the bed) of the packages `nvrs`.
pub fn make_repo(bed: &Bed, name: &str, nvrs: &[&str]) -> PathBuf {
    let dir = bed.tb.join("rpmmd").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<PathBuf> = nvrs.iter().map(|n| rpm(bed, n)).collect();
    run_ok(
        Command::new(testbed("rpms/mkrepo.sh"))
            .arg(&dir)
            .args(&files),
    );
    dir
}

/// A repository served over HTTP: its port and request log.
pub struct Served {
    pub port: u16,
    pub log: PathBuf,
}

impl Served {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The requests so far (paths).
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

/// Serves `dir`; `args` are extra httpd.py options (`--delay MS`, `--stall`).
pub fn serve(bed: &Bed, dir: &Path, args: &[&str]) -> Served {
    let log = bed.tb.join(format!(
        "http-{}.log",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let log_arg = log.display().to_string();
    let mut all = vec!["--log", log_arg.as_str()];
    all.extend_from_slice(args);
    Served {
        port: bed.serve_http(dir, &all),
        log,
    }
}

/// The checkout of the bed's first deployment (the one a fresh world has).
pub fn deployment_root(bed: &Bed) -> PathBuf {
    let deploy = bed.sysroot().join("ostree/deploy/testos/deploy");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&deploy)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter().next().expect("a deployment")
}

/// Writes `/etc/yum.repos.d/<file>` of the deployment.
pub fn write_repo_file(bed: &Bed, file: &str, text: &str) -> PathBuf {
    let dir = deployment_root(bed).join("etc/yum.repos.d");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// A `.repo` section for `baseurl` (no GPG).
pub fn repo_section(id: &str, baseurl: &str, extra: &str) -> String {
    format!("[{id}]\nname={id} repo\nbaseurl={baseurl}\ngpgcheck=0\n{extra}")
}

/// The OS's cache directory (`/var/cache/rpm-ostree` of the stateroot).
pub fn cache_dir(bed: &Bed) -> PathBuf {
    bed.sysroot()
        .join("ostree/deploy/testos/var/cache/rpm-ostree")
}

/// A signing key of the bed (made once): its GnuPG home and the armored
/// public key file (for `gpgkey=file://...`).
pub fn signing_key(bed: &Bed) -> (PathBuf, PathBuf) {
    let home = bed.tb.join("gnupg");
    let key = bed.tb.join("signing-key.asc");
    if key.is_file() {
        return (home, key);
    }
    std::fs::create_dir_all(&home).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", &home).arg("--batch").args(args);
        c
    };
    run_ok(&mut gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        "rpm-ostree test <test@example.com>",
        "rsa2048",
        "sign",
        "never",
    ]));
    let out = gpg(&["--armor", "--export", "test@example.com"])
        .output()
        .unwrap();
    kill_agent(&home);
    assert!(out.status.success() && !out.stdout.is_empty());
    std::fs::write(&key, out.stdout).unwrap();
    (home, key)
}

/// A copy of package `nvr` signed with the bed's key, in `dir`.
pub fn signed_rpm(bed: &Bed, nvr: &str, dir: &Path) -> PathBuf {
    let (home, _) = signing_key(bed);
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(format!("{nvr}.noarch.rpm"));
    std::fs::copy(rpm(bed, nvr), &file).unwrap();
    let define = |s: String| ["--define".to_string(), s];
    let mut c = Command::new("rpmsign");
    c.env("GNUPGHOME", &home)
        .arg("--addsign")
        .args(define("__gpg /usr/bin/gpg".into()))
        .args(define("_gpg_name test@example.com".into()))
        .args(define(format!("_gpg_path {}", home.display())))
        .args(define(
            "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''".into(),
        ))
        .arg(&file);
    let status = c.status().unwrap();
    kill_agent(&home);
    assert!(status.success(), "rpmsign failed");
    file
}

/// Stops the gpg-agent that key generation or signing started.
fn kill_agent(home: &Path) {
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", home)
        .args(["--kill", "gpg-agent"])
        .status();
}
