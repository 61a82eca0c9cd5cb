//! Helper processes of a transaction (`rpm-ostreed internal-pull`,
//! `rpm-ostreed internal-prune`) with a JSON specification: forked by the
//! zygote, or else executed (then killed when the thread that started them
//! ends, by the parent-death signal); read as JSON lines, and killed at once
//! when the transaction is cancelled.

use anyhow::{Context, Result, anyhow};
use gio::prelude::*;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::zygote;

/// What waiting for the helper's next line gave.
pub(crate) enum Line {
    Text(String),
    /// End of its output: the helper ended. Whether it succeeded is what its
    /// lines said (helpers end with a result line).
    Ended,
    /// Nothing arrived for the given time; the helper was killed.
    Stalled,
}

/// The helper process: forked by the zygote, or executed.
enum Process {
    Forked(OwnedFd),
    Executed(Child),
}

pub(crate) struct Helper {
    process: Process,
    stdout: File,
    buf: Vec<u8>,
    done: bool,
}

fn pipe() -> Result<(File, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error()).context("Creating a pipe");
    }
    // SAFETY: both descriptors were just created and are owned here.
    Ok(unsafe { (File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

impl Helper {
    /// Starts helper `VERB` of `rpm-ostreed` with `SPEC`: forked by the
    /// zygote, or else our own executable executed again.
    pub(crate) fn spawn(verb: &str, spec: &str) -> Result<Self> {
        let (stdout, write_end) = pipe()?;
        if let Some(pidfd) = zygote::spawn(verb, spec, &write_end) {
            return Ok(Self {
                process: Process::Forked(pidfd),
                stdout,
                buf: Vec::new(),
                done: false,
            });
        }
        drop((stdout, write_end));
        let exe = std::env::current_exe().context("Finding our own executable")?;
        let mut cmd = Command::new(exe);
        cmd.arg(verb)
            .arg(spec)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // SAFETY: prctl only; the child must not outlive the daemon.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().with_context(|| format!("Starting {verb}"))?;
        let stdout = child.stdout.take().context("No pipe to the helper")?;
        Ok(Self {
            stdout: File::from(OwnedFd::from(stdout)),
            process: Process::Executed(child),
            buf: Vec::new(),
            done: false,
        })
    }

    /// Waits until the process is gone (after the end of its output, or a kill).
    fn reap(&mut self) {
        match &mut self.process {
            Process::Forked(pidfd) => zygote::wait_ended(pidfd, 5000),
            Process::Executed(child) => {
                let _ = child.wait();
            }
        }
        self.done = true;
    }

    fn kill(&mut self) {
        if !self.done {
            match &mut self.process {
                Process::Forked(pidfd) => zygote::kill(pidfd),
                Process::Executed(child) => {
                    let _ = child.kill();
                }
            }
            self.reap();
        }
    }

    fn take_line(&mut self) -> Option<String> {
        let pos = self.buf.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.buf.drain(..=pos).collect();
        Some(String::from_utf8_lossy(&line).trim().to_string())
    }

    /// The next line. Cancellation kills the helper and fails with the
    /// cancellation error; `stall` without any output kills it too.
    pub(crate) fn next_line(
        &mut self,
        cancellable: &gio::Cancellable,
        stall: Duration,
    ) -> Result<Line> {
        if let Some(line) = self.take_line() {
            return Ok(Line::Text(line));
        }
        let cancel_fd = cancellable.fd();
        let result = self.wait_line(cancellable, cancel_fd, stall);
        if cancel_fd >= 0 {
            cancellable.release_fd();
        }
        result
    }

    fn wait_line(
        &mut self,
        cancellable: &gio::Cancellable,
        cancel_fd: i32,
        stall: Duration,
    ) -> Result<Line> {
        let since = Instant::now();
        loop {
            let idle = since.elapsed();
            if idle >= stall {
                self.kill();
                return Ok(Line::Stalled);
            }
            let mut fds = vec![self.stdout.as_raw_fd()];
            if cancel_fd >= 0 {
                fds.push(cancel_fd);
            }
            let ready = wait_readable(&fds, (stall - idle).min(Duration::from_secs(1)));
            if cancellable.is_cancelled() {
                self.kill();
                cancellable.set_error_if_cancelled()?;
            }
            if !ready {
                continue;
            }
            // Readable: a read returns at once with data, or 0 at end of file.
            let mut chunk = [0u8; 8192];
            let n = self.stdout.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                self.reap();
                return Ok(Line::Ended);
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(line) = self.take_line() {
                return Ok(Line::Text(line));
            }
        }
    }

    /// Reads to the end; returns the last line carrying `key` (JSON), failing
    /// with the helper's `error` line, or when it ended without a result.
    pub(crate) fn result(
        &mut self,
        cancellable: &gio::Cancellable,
        key: &str,
    ) -> Result<serde_json::Value> {
        let mut found = None;
        let mut error = None;
        loop {
            match self.next_line(cancellable, Duration::MAX)? {
                Line::Text(t) => {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                    if let Some(e) = v["error"].as_str() {
                        error = Some(e.to_string());
                    } else if v.get(key).is_some() {
                        found = Some(v);
                    }
                }
                Line::Ended => {
                    return match (found, error) {
                        (_, Some(e)) => Err(anyhow!("{e}")),
                        (Some(v), None) => Ok(v),
                        (None, None) => Err(anyhow!("The helper ended without a result")),
                    };
                }
                Line::Stalled => return Err(anyhow!("Helper stalled")),
            }
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until one of `fds` is readable or `timeout` passes; true if the
/// first one is.
fn wait_readable(fds: &[i32], timeout: Duration) -> bool {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `pfds` is a valid array of pollfd of the given length.
    unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    pfds[0].revents != 0
}
