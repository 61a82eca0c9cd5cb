//! Starting a helper: our own executable again, as `rpm-ostreed VERB` (or
//! another program installed beside it), its stdin and stdout piped, its
//! stderr the daemon's (the log), killed by the kernel when the thread that
//! started it ends (the daemon dies, or the worker thread is gone).
#![allow(unsafe_code)]

use anyhow::{Context, Result};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Which executable a helper runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Program {
    /// The daemon's own executable, which carries most helper verbs.
    Daemon,
    /// A program installed beside the daemon's executable (for libraries
    /// the daemon must not load).
    Sibling(&'static str),
}

impl Program {
    fn path(self) -> Result<PathBuf> {
        let exe = std::env::current_exe().context("Finding our own executable")?;
        Ok(match self {
            Self::Daemon => exe,
            Self::Sibling(name) => exe.with_file_name(name),
        })
    }
}

/// Makes the process `cmd` starts die (SIGKILL) when the thread that starts
/// it ends: the daemon dies, or the worker thread is gone. For every child
/// of the daemon that must not outlive it (helpers, sandboxes, FUSE servers).
pub(crate) fn die_with_daemon(cmd: &mut Command) -> &mut Command {
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs between fork and exec and only makes two
    // async-signal-safe system calls (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            use rustix::process::{Signal, getppid, set_parent_process_death_signal};
            set_parent_process_death_signal(Some(Signal::KILL))?;
            // The parent may have died before the death signal was armed.
            if getppid() != Some(parent) {
                return Err(std::io::Error::other("the daemon is gone"));
            }
            Ok(())
        })
    }
}

pub(super) fn spawn(program: Program, verb: &str) -> Result<Child> {
    let path = program.path()?;
    let mut cmd = Command::new(&path);
    cmd.arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    die_with_daemon(&mut cmd);
    cmd.spawn()
        .with_context(|| format!("Starting helper {verb} ({})", path.display()))
}

/// Blocks until the child exits or `most` passes (a pidfd poll).
pub(crate) fn wait_a_little(child: &std::process::Child, most: Duration) {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) else {
        return;
    };
    let Ok(fd) = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) else {
        std::thread::sleep(most);
        return;
    };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let t = Timespec {
        tv_sec: 0,
        tv_nsec: i64::from(most.subsec_nanos()),
    };
    let _ = poll(&mut fds, Some(&t));
}

/// Waits for `child`; kills it (and reaps it) as soon as `cancellable` is
/// cancelled.
pub(crate) fn wait_or_kill(
    child: &mut Child,
    cancellable: &gio::Cancellable,
) -> std::io::Result<std::process::ExitStatus> {
    use gio::prelude::*;
    loop {
        if cancellable.is_cancelled() {
            let _ = child.kill();
            return child.wait();
        }
        if let Some(s) = child.try_wait()? {
            return Ok(s);
        }
        wait_a_little(child, Duration::from_millis(100));
    }
}
