//! What tests/container_helper.rs needs: running the helper and reading its
//! JSON lines, ostree repositories, and a loopback docker-registry.

use crate::common::*;
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The helper binary: `RPMOSTREE_CONTAINER_HELPER` (the Makefile sets it), or
/// where `make container-helper` puts it.
pub fn helper_path() -> PathBuf {
    let p = std::env::var_os("RPMOSTREE_CONTAINER_HELPER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            project_root().join("target/container-helper/debug/rpm-ostreed-container")
        });
    assert!(
        p.is_file(),
        "{} is missing: build it with `make container-helper`",
        p.display()
    );
    p
}

/// What one run of the helper said.
#[derive(Debug)]
pub struct Reply {
    pub code: i32,
    pub lines: Vec<Value>,
    pub stderr: String,
}

impl Reply {
    /// The `done` result of a run that must have succeeded.
    pub fn done(&self) -> &Value {
        assert_eq!(
            self.code, 0,
            "helper failed: {:?}\nstderr: {}",
            self.lines, self.stderr
        );
        let last = self.lines.last().expect("a result line");
        last.get("done")
            .unwrap_or_else(|| panic!("no done line: {self:?}"))
    }

    /// The `error` message of a run that must have failed (exit 1).
    pub fn error(&self) -> String {
        assert_eq!(self.code, 1, "helper did not fail as expected: {self:?}");
        assert_eq!(
            self.lines
                .iter()
                .filter(|l| l.get("error").is_some())
                .count(),
            1,
            "exactly one error line: {self:?}"
        );
        let e = self.lines.last().and_then(|l| l["error"].as_str());
        let e = e.unwrap_or_else(|| panic!("error is not the last line: {self:?}"));
        assert!(!e.contains('\n'), "a one-line error: {e:?}");
        e.to_string()
    }

    /// The `progress` values, in order.
    pub fn progress(&self) -> Vec<&Value> {
        self.lines
            .iter()
            .filter_map(|l| l.get("progress"))
            .collect()
    }
}

fn parse_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// Runs the helper with `args` to completion.
pub fn helper(args: &[&str]) -> Reply {
    let (code, out, stderr) = run(Command::new(helper_path()).args(args));
    Reply {
        code,
        lines: parse_lines(&out),
        stderr,
    }
}

/// Runs bare `verb` with `request` on its stdin, as the daemon's helper
/// module starts helpers.
pub fn helper_request(verb: &str, request: &Value) -> Reply {
    let mut child = with_pdeathsig(Command::new(helper_path()).arg(verb))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the helper");
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, request.to_string().as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    Reply {
        code: out.status.code().unwrap_or(-1),
        lines: parse_lines(&String::from_utf8_lossy(&out.stdout)),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts the helper with its stdout piped, for tests that act mid-run.
pub fn spawn_helper(args: &[&str]) -> Child {
    with_pdeathsig(Command::new(helper_path()).args(args))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the helper")
}

/// A fresh repository of `mode` at `path`.
pub fn init_repo(path: &Path, mode: &str) -> String {
    let p = path.display().to_string();
    run_ok(Command::new("ostree").args([
        "init",
        &format!("--repo={p}"),
        &format!("--mode={mode}"),
    ]));
    p
}

pub fn ostree_in(repo: &str, args: &[&str]) -> String {
    run_ok(
        Command::new("ostree")
            .arg(format!("--repo={repo}"))
            .args(args),
    )
}

/// `ostree fsck` must find nothing wrong.
pub fn assert_fsck(repo: &str) {
    let out = ostree_in(repo, &["fsck"]);
    assert!(out.contains("no errors found"), "fsck of {repo}: {out}");
}

/// The repository's refs under `ostree/container/image/`.
pub fn image_refs(repo: &str) -> Vec<String> {
    ostree_in(repo, &["refs"])
        .lines()
        .filter(|r| r.starts_with("ostree/container/image/"))
        .map(String::from)
        .collect()
}

/// Every path with its mode and checksum: two commits with equal listings
/// have the same tree.
pub fn tree(repo: &str, rev: &str) -> String {
    ostree_in(repo, &["ls", "-R", "-C", rev])
}

/// Debian's docker-registry on 127.0.0.1 (a port the kernel picks), its
/// configuration and storage in `dir`; killed when dropped.
pub struct Registry {
    child: Child,
    pub port: u16,
}

impl Registry {
    pub fn start(dir: &Path) -> Registry {
        let storage = dir.join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: 127.0.0.1:0\n  secret: test-only\n",
                storage.display()
            ),
        )
        .unwrap();
        let mut child = with_pdeathsig(Command::new("docker-registry").arg("serve").arg(&config))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting docker-registry");
        // It logs `listening on 127.0.0.1:PORT` once it accepts connections;
        // a thread keeps draining its log so that it never blocks on it.
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(port.parse::<u16>().ok());
                    }
                }
            }
        });
        let mut registry = Registry { child, port: 0 };
        match rx.recv_timeout(DEADLINE) {
            Ok(Some(port)) => registry.port = port,
            other => panic!("docker-registry did not start listening: {other:?}"),
        }
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        stop_child(&mut self.child, std::time::Duration::from_secs(5));
    }
}

/// A copy of the host's /etc/containers at `dir` with `policy` as its
/// policy.json and `registries_d` (a YAML text) as registries.d/test.yaml,
/// for [`helper_in`]. The host's own /etc/containers is never touched.
pub fn containers_etc(dir: &Path, policy: &Value, registries_d: &str) -> PathBuf {
    run_ok(Command::new("cp").arg("-a").arg("/etc/containers").arg(dir));
    std::fs::write(dir.join("policy.json"), policy.to_string()).unwrap();
    std::fs::create_dir_all(dir.join("registries.d")).unwrap();
    std::fs::write(dir.join("registries.d/test.yaml"), registries_d).unwrap();
    dir.to_path_buf()
}

/// Runs the helper in a private mount namespace where `etc` is mounted over
/// /etc/containers: the mount goes away with the helper, whatever happens.
pub fn helper_in(etc: &Path, args: &[&str]) -> Reply {
    let (code, out, stderr) = run(Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$0" /etc/containers && exec "$@""#)
        .arg(etc)
        .arg(helper_path())
        .args(args));
    Reply {
        code,
        lines: parse_lines(&out),
        stderr,
    }
}
