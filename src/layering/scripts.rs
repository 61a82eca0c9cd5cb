//! Package scripts (`%pre`, `%post`, `%posttrans`) run in the tree being
//! assembled, in a bubblewrap sandbox as upstream builds it: a new PID, UTS,
//! IPC and network namespace, most capabilities dropped, the tree read-only
//! except `/usr` and `/etc`, which are `rofiles-fuse --copyup` views: a
//! script can create and rewrite files, but a file that is a hardlink into
//! the repository is copied first, so no script can change an object. The
//! output of each script becomes `Message` lines; a failing script fails
//! the layering with its last lines.

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helper::{die_with_daemon, wait_a_little, wait_or_kill};
use crate::progress::ProgressSink;

/// When a script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Pre,
    Post,
    PostTrans,
}

impl Phase {
    /// As rpm names it (`%pre`...).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Pre => "%pre",
            Self::Post => "%post",
            Self::PostTrans => "%posttrans",
        }
    }
}

/// One script of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Script {
    pub package: String,
    pub phase: Phase,
    /// The interpreter and its arguments (`/bin/sh`).
    pub interpreter: Vec<String>,
    pub body: String,
}

/// The scripts of a package's header that a layering runs.
pub(crate) fn of_package(name: &str, meta: &rpm::PackageMetadata) -> Result<Vec<Script>> {
    let mut out = Vec::new();
    for (phase, s) in [
        (Phase::Pre, meta.get_pre_install_script()),
        (Phase::Post, meta.get_post_install_script()),
        (Phase::PostTrans, meta.get_post_trans_script()),
    ] {
        let Ok(s) = s else { continue };
        let interpreter = s.program.clone().unwrap_or_else(|| vec!["/bin/sh".into()]);
        if interpreter.first().is_some_and(|i| i == "<lua>") {
            bail!(
                "Package '{name}' has (currently) unsupported script of type '{}' (lua)",
                phase.name()
            );
        }
        if s.script.trim().is_empty() && s.program.is_none() {
            continue;
        }
        out.push(Script {
            package: name.to_string(),
            phase,
            interpreter,
            body: s.script,
        });
    }
    Ok(out)
}

/// The capabilities a script keeps (upstream's list).
const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_SYS_CHROOT",
    "CAP_SETFCAP",
];

/// The writable views of the tree's `/usr` and `/etc`, while scripts run.
pub(crate) struct Sandbox {
    root: PathBuf,
    usr: PathBuf,
    etc: PathBuf,
    scratch: PathBuf,
    /// The FUSE servers (in the foreground: they die with the daemon).
    servers: Vec<std::process::Child>,
}

/// True if something is mounted at `point` (mountinfo has canonical paths).
fn mounted(point: &Path) -> bool {
    let point = std::fs::canonicalize(point).unwrap_or_else(|_| point.to_path_buf());
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| Path::new(m) == point)
}

/// How long a FUSE server may take to mount.
const MOUNT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `src` at `point` with rofiles-fuse (in the foreground, a child
/// that dies with the daemon); returns once it is mounted.
fn rofiles(src: &Path, point: &Path) -> Result<std::process::Child> {
    std::fs::create_dir_all(point)?;
    let mut child = die_with_daemon(
        Command::new("rofiles-fuse")
            .arg("--copyup")
            .arg("-f")
            .arg(src)
            .arg(point)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )
    .spawn()
    .context("Running rofiles-fuse")?;
    let since = std::time::Instant::now();
    while !mounted(point) {
        if let Some(status) = child.try_wait()? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            bail!("rofiles-fuse {} ({status}): {}", src.display(), err.trim());
        }
        if since.elapsed() > MOUNT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "rofiles-fuse {}: not mounted after {MOUNT_TIMEOUT:?}",
                src.display()
            );
        }
        wait_a_little(&child, Duration::from_millis(10));
    }
    Ok(child)
}

fn unmount(point: &Path) {
    if mounted(point) {
        let _ = Command::new("umount").arg(point).status();
    }
    if mounted(point) {
        let _ = Command::new("umount").arg("-l").arg(point).status();
    }
}

impl Sandbox {
    /// Mounts the views of `root`'s `usr` and `etc` below `scratch`.
    pub(crate) fn new(root: &Path, scratch: &Path) -> Result<Self> {
        let mut s = Self {
            root: root.to_path_buf(),
            usr: scratch.join("rofiles-usr"),
            etc: scratch.join("rofiles-etc"),
            scratch: scratch.to_path_buf(),
            servers: Vec::new(),
        };
        // Mount points in the read-only /var (removed again on drop).
        std::fs::create_dir_all(root.join("var/tmp"))?;
        s.servers.push(rofiles(&root.join("usr"), &s.usr)?);
        s.servers.push(rofiles(&root.join("etc"), &s.etc)?);
        Ok(s)
    }

    fn bwrap(&self, script_file: &Path, argv: &[String], arg: &str) -> Command {
        let mut c = Command::new("bwrap");
        c.arg("--ro-bind").arg(&self.root).arg("/");
        c.arg("--bind").arg(&self.usr).arg("/usr");
        c.arg("--bind").arg(&self.etc).arg("/etc");
        c.args([
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/run", "--tmpfs", "/tmp",
        ]);
        c.args(["--chdir", "/", "--die-with-parent"]);
        c.args([
            "--unshare-pid",
            "--unshare-uts",
            "--unshare-ipc",
            "--unshare-cgroup-try",
        ]);
        c.arg("--unshare-net");
        // A read-only selection of /sys, on a tmpfs (the tree's /sys is an
        // empty directory of a read-only bind).
        if self.root.join("sys").is_dir() {
            c.args(["--tmpfs", "/sys"]);
            for d in ["block", "bus", "class", "dev", "devices"] {
                let p = Path::new("/sys").join(d);
                if p.exists() {
                    c.arg("--ro-bind").arg(&p).arg(&p);
                }
            }
        }
        if self.root.join("var").is_dir() {
            c.arg("--ro-bind").arg(self.root.join("var")).arg("/var");
            c.args(["--tmpfs", "/var/tmp"]);
        }
        c.args(["--cap-drop", "ALL"]);
        for cap in CAPS {
            c.args(["--cap-add", cap]);
        }
        c.args(["--clearenv", "--setenv", "PATH", "/usr/sbin:/usr/bin"]);
        c.args([
            "--setenv",
            "LANG",
            "C.UTF-8",
            "--setenv",
            "SYSTEMD_OFFLINE",
            "1",
        ]);
        c.arg("--ro-bind")
            .arg(script_file)
            .arg("/run/rpm-ostree-script");
        c.arg("--");
        c.args(argv);
        c.arg("/run/rpm-ostree-script");
        c.arg(arg);
        c
    }

    /// Runs `script` (`$1` = `arg`), its output as messages; cancelling kills it.
    pub(crate) fn run(
        &self,
        script: &Script,
        arg: &str,
        progress: &ProgressSink,
        cancellable: &gio::Cancellable,
    ) -> Result<()> {
        let what = format!("Running {} for {}", script.phase.name(), script.package);
        let file = self.scratch.join(format!(
            "script-{}-{}",
            script.package,
            script.phase.name().trim_start_matches('%')
        ));
        std::fs::write(&file, &script.body).with_context(|| what.clone())?;
        let (read, write) = std::io::pipe()?;
        let mut cmd = self.bwrap(&file, &script.interpreter, arg);
        cmd.stdin(Stdio::null())
            .stdout(write.try_clone()?)
            .stderr(write);
        let mut child = die_with_daemon(&mut cmd)
            .spawn()
            .with_context(|| format!("{what}: starting bwrap"))?;
        // The command holds the pipe's write end: the output ends when the
        // sandbox's copies are gone.
        drop(cmd);
        let sink = progress.clone();
        let reader = std::thread::spawn(move || {
            let mut tail: Vec<String> = Vec::new();
            for line in std::io::BufReader::new(read).lines().map_while(Result::ok) {
                sink.message(line.clone());
                tail.push(line);
                if tail.len() > 20 {
                    tail.remove(0);
                }
            }
            tail
        });
        let status = wait_or_kill(&mut child, cancellable)?;
        let tail = reader
            .join()
            .map_err(|_| anyhow!("{what}: reading its output"))?;
        let _ = std::fs::remove_file(&file);
        cancellable.set_error_if_cancelled()?;
        if !status.success() {
            let interp = script.interpreter.join(" ");
            let why = match status.code() {
                Some(c) => format!("Child process exited with code {c}"),
                None => format!("Child process {status}"),
            };
            let mut msg = format!("{what}: bwrap({interp}): {why}");
            if !tail.is_empty() {
                msg.push('\n');
                msg.push_str(&tail.join("\n"));
            }
            bail!(msg);
        }
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        unmount(&self.usr);
        unmount(&self.etc);
        for mut s in self.servers.drain(..) {
            let _ = s.kill();
            let _ = s.wait();
        }
        let _ = std::fs::remove_dir(self.root.join("var/tmp"));
    }
}

/// The order scripts run in: every `%pre` (packages in `order`), then per
/// package its `%post`, then every `%posttrans`.
pub(crate) fn in_order(scripts: &[Script], order: &[String]) -> Vec<Script> {
    let pos = |p: &str| order.iter().position(|o| o == p).unwrap_or(usize::MAX);
    let mut v = scripts.to_vec();
    v.sort_by_key(|s| (s.phase, pos(&s.package)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_then_post_then_posttrans_in_package_order() {
        let s = |p: &str, phase| Script {
            package: p.into(),
            phase,
            interpreter: vec!["/bin/sh".into()],
            body: String::new(),
        };
        let all = [
            s("b", Phase::PostTrans),
            s("a", Phase::Post),
            s("b", Phase::Pre),
            s("a", Phase::Pre),
            s("b", Phase::Post),
        ];
        let order = ["b".to_string(), "a".to_string()];
        let got: Vec<(String, Phase)> = in_order(&all, &order)
            .into_iter()
            .map(|s| (s.package, s.phase))
            .collect();
        assert_eq!(
            got,
            [
                ("b".into(), Phase::Pre),
                ("a".into(), Phase::Pre),
                ("b".into(), Phase::Post),
                ("a".into(), Phase::Post),
                ("b".into(), Phase::PostTrans)
            ]
        );
    }
}
