//! Processes of the test bed: spawning with a parent-death signal, waiting for
//! exit or for a file with a deadline (pidfd / inotify, never sleeping), and
//! stopping them (SIGTERM, then SIGKILL).

use std::ffi::CString;
use std::io::BufRead;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Makes `cmd` die with the test's thread if the test process goes away.
pub fn with_pdeathsig(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe; nothing else runs in the pre_exec hook.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

fn poll_fd(fd: i32, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut pfd, 1, ms) > 0 }
}

/// Waits until process `pid` exits or `timeout` passes; true if it exited.
pub fn wait_pid_exit(pid: i32, timeout: Duration) -> bool {
    // SAFETY: pidfd_open has no memory arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    if fd < 0 {
        return true; // already gone
    }
    let exited = poll_fd(fd, timeout);
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    exited
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
    // SAFETY: plain syscall.
    unsafe { libc::kill(pid, sig) };
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
    let deadline = Instant::now() + timeout;
    let dir = path.parent().expect("path has a parent");
    // SAFETY: inotify calls with a valid NUL-terminated path.
    let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    assert!(fd >= 0, "inotify_init1");
    let cdir = CString::new(dir.as_os_str().as_encoded_bytes()).expect("no NUL");
    unsafe {
        libc::inotify_add_watch(
            fd,
            cdir.as_ptr(),
            libc::IN_CREATE | libc::IN_MOVED_TO | libc::IN_CLOSE_WRITE,
        )
    };
    let found = loop {
        if path.exists() {
            break true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break false;
        }
        if poll_fd(fd, left) {
            let mut buf = [0u8; 4096];
            // SAFETY: draining events into a local buffer.
            unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        }
    };
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    found
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
