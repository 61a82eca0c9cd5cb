//! Processes of the test bed: spawning with a parent-death signal, waiting for
//! exit or for a file with a deadline (pidfd / inotify, never sleeping), and
//! stopping them (SIGTERM, then SIGKILL).

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open};
use std::io::BufRead;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Makes `cmd` die with the test's thread if the test process goes away.
#[allow(unsafe_code)]
pub fn with_pdeathsig(cmd: &mut Command) -> &mut Command {
    // SAFETY: the hook makes one async-signal-safe system call (prctl).
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
            Ok(())
        })
    }
}

fn poll_fd(fd: impl AsFd, timeout: Duration) -> bool {
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let t = Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    poll(&mut fds, Some(&t)).unwrap_or(0) > 0
}

/// Waits until process `pid` exits or `timeout` passes; true if it exited.
pub fn wait_pid_exit(pid: i32, timeout: Duration) -> bool {
    let Some(pid) = Pid::from_raw(pid) else {
        return true;
    };
    match pidfd_open(pid, PidfdFlags::empty()) {
        Ok(fd) => poll_fd(fd, timeout),
        Err(_) => true, // already gone
    }
}

/// Waits for our child to exit, up to `timeout`; returns its status if it did.
pub fn wait_child(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    if let Ok(Some(s)) = child.try_wait() {
        return Some(s);
    }
    wait_pid_exit(child.id() as i32, timeout);
    child.try_wait().ok().flatten()
}

pub fn kill(pid: i32, sig: i32) {
    if let (Some(pid), Some(sig)) = (Pid::from_raw(pid), Signal::from_named_raw(sig)) {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// SIGTERM, then SIGKILL after `grace`; reaps the child.
pub fn stop_child(child: &mut Child, grace: Duration) {
    if child.try_wait().ok().flatten().is_some() {
        return;
    }
    kill(child.id() as i32, libc::SIGTERM);
    if wait_child(child, grace).is_none() {
        kill(child.id() as i32, libc::SIGKILL);
        let _ = child.wait();
    }
}

/// Waits until `path` exists (inotify on its directory), up to `timeout`.
pub fn wait_for_file(path: &Path, timeout: Duration) -> bool {
    use rustix::fs::inotify;
    let deadline = Instant::now() + timeout;
    let dir = path.parent().expect("path has a parent");
    let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)
        .expect("inotify_init1");
    inotify::add_watch(
        &fd,
        dir,
        inotify::WatchFlags::CREATE
            | inotify::WatchFlags::MOVED_TO
            | inotify::WatchFlags::CLOSE_WRITE,
    )
    .expect("inotify_add_watch");
    loop {
        if path.exists() {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        if poll_fd(&fd, left) {
            let mut buf = [0u8; 4096];
            let _ = rustix::io::read(&fd, &mut buf);
        }
    }
}

/// Reads the first line a child prints on stdout (its readiness signal).
pub fn first_line(child: &mut Child) -> String {
    let out = child.stdout.take().expect("stdout piped");
    let mut line = String::new();
    std::io::BufReader::new(out)
        .read_line(&mut line)
        .expect("reading first line");
    line.trim().to_string()
}

/// Runs a command to completion, returning (status code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = with_pdeathsig(cmd)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command that must succeed; returns its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{cmd:?} failed:\nstdout: {out}\nstderr: {err}");
    out
}

/// The children of process `pid` (from `/proc/PID/task/*/children`).
pub fn children_of(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// `pid`'s descendants, children first.
pub fn descendants_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let mut queue = children_of(pid);
    while let Some(p) = queue.pop() {
        out.push(p);
        queue.extend(children_of(p));
    }
    out
}

/// The command line of process `pid`, its arguments joined by spaces.
/// Asserts that each of `pids` exits within the deadline; the message says
/// what it outlived (`Cancel`, `the daemon`).
pub fn assert_all_exit(pids: &[i32], outlived: &str) {
    for &pid in pids {
        assert!(
            wait_pid_exit(pid, super::DEADLINE),
            "{pid} ({}) outlived {outlived}",
            cmdline_of(pid)
        );
    }
}

pub fn cmdline_of(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}
