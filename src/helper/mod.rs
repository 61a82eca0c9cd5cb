//! Helper processes: work that must not run in the daemon's own process
//! (libostree pulls whose HTTP fetcher ignores cancellation while a request
//! stalls, prunes, and later libdnf and rpm) runs in a child that dies with
//! the daemon, speaks the typed JSON-lines protocol of [`protocol`], is
//! killed at once on `Cancel`, and is killed by a watchdog when it says
//! nothing for too long. This module knows nothing of what the children do.

pub(crate) mod protocol;
mod spawn;

use anyhow::{Context, Result, anyhow, bail};
use gio::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::process::{Child, ChildStdin, ChildStdout};
use std::time::{Duration, Instant};

pub(crate) use protocol::Line;
pub(crate) use spawn::{Program, die_with_daemon, wait_a_little, wait_or_kill};

/// The error of a helper that said nothing for its stall timeout (it was killed).
#[derive(Debug)]
pub(crate) struct Stalled(pub Duration);

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Helper stalled: nothing received for {} seconds",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for Stalled {}

/// Wakes a poll when a cancellable fires: a pipe written by the
/// cancellable's handler (which runs in whatever thread cancels).
struct CancelPipe {
    read: std::os::fd::OwnedFd,
    cancellable: gio::Cancellable,
    handler: Option<gio::CancelledHandlerId>,
}

impl CancelPipe {
    fn new(cancellable: &gio::Cancellable) -> Result<Self> {
        let (read, write) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).context("Creating a pipe")?;
        let handler = cancellable.connect_cancelled(move |_| {
            let _ = rustix::io::write(&write, b"x");
        });
        Ok(Self {
            read,
            cancellable: cancellable.clone(),
            handler,
        })
    }
}

impl Drop for CancelPipe {
    fn drop(&mut self) {
        if let Some(h) = self.handler.take() {
            self.cancellable.disconnect_cancelled(h);
        }
    }
}

/// A running helper whose progress lines are `P` and whose result is `R`.
pub(crate) struct Helper<P, R> {
    verb: String,
    child: Child,
    /// Until the request is sent.
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    cancel: CancelPipe,
    buf: Vec<u8>,
    done: bool,
    _lines: std::marker::PhantomData<fn() -> (P, R)>,
}

/// What a helper said, besides failing.
#[derive(Debug, PartialEq)]
pub(crate) enum Reply<P, R> {
    Progress(P),
    Done(R),
}

impl<P: DeserializeOwned, R: DeserializeOwned> Helper<P, R> {
    /// Starts helper `verb` and hands it `request`; `cancellable` kills it.
    pub(crate) fn spawn(
        verb: &str,
        request: &impl Serialize,
        cancellable: &gio::Cancellable,
    ) -> Result<Self> {
        Self::spawn_program(&Program::Daemon, verb, request, cancellable)
    }

    /// [`Helper::spawn`] of another program.
    pub(crate) fn spawn_program(
        program: &Program,
        verb: &str,
        request: &impl Serialize,
        cancellable: &gio::Cancellable,
    ) -> Result<Self> {
        let mut helper = Self::start_program(*program, verb, cancellable)?;
        helper.send(request)?;
        Ok(helper)
    }

    /// Starts helper `verb`, which waits for its request: starting early
    /// takes the helper's start-up off the path of what comes before the
    /// request.
    pub(crate) fn start(verb: &str, cancellable: &gio::Cancellable) -> Result<Self> {
        Self::start_program(Program::Daemon, verb, cancellable)
    }

    fn start_program(program: Program, verb: &str, cancellable: &gio::Cancellable) -> Result<Self> {
        cancellable.set_error_if_cancelled()?;
        let cancel = CancelPipe::new(cancellable)?;
        let mut child = spawn::spawn(program, verb)?;
        let stdout = child.stdout.take().context("No pipe from the helper")?;
        let stdin = child.stdin.take();
        Ok(Self {
            verb: verb.to_string(),
            child,
            stdin,
            stdout,
            cancel,
            buf: Vec::new(),
            done: false,
            _lines: std::marker::PhantomData,
        })
    }

    /// Hands the helper its request (once).
    pub(crate) fn send(&mut self, request: &impl Serialize) -> Result<()> {
        let text = serde_json::to_vec(request).context("Encoding the helper request")?;
        let mut stdin = self
            .stdin
            .take()
            .context("The helper has its request already")?;
        // A helper that died before reading reports why on its stderr; its
        // missing result line is the error then.
        let _ = stdin.write_all(&text);
        Ok(())
    }

    fn kill(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.done = true;
        }
    }

    fn take_line(&mut self) -> Option<Vec<u8>> {
        let pos = self.buf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
        line.pop();
        Some(line)
    }

    /// The next line; fails when the helper fails, ends without a result,
    /// says something that is not the protocol, stalls for `stall` (it is
    /// killed: [`Stalled`]), or when the cancellable fires (it is killed, and
    /// this is the cancellation error).
    pub(crate) fn next(&mut self, stall: Duration) -> Result<Reply<P, R>> {
        if self.done {
            bail!("Helper {} already ended", self.verb);
        }
        if self.stdin.is_some() {
            bail!("Helper {} has no request yet", self.verb);
        }
        let line = self.read_line(stall)?;
        let parsed: Line<P, R> = match line {
            Some(l) => serde_json::from_slice(&l).map_err(|e| {
                self.kill();
                anyhow!(
                    "Helper {}: unexpected output ({e}): {}",
                    self.verb,
                    String::from_utf8_lossy(&l)
                )
            })?,
            None => {
                let status = self.child.wait();
                self.done = true;
                bail!(
                    "Helper {} ended without a result ({})",
                    self.verb,
                    status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|e| e.to_string())
                );
            }
        };
        match parsed {
            Line::Progress(p) => Ok(Reply::Progress(p)),
            Line::Done(r) => {
                self.reap();
                Ok(Reply::Done(r))
            }
            Line::Error(e) => {
                self.reap();
                Err(anyhow!("{e}"))
            }
        }
    }

    /// Reads to the result, handing each progress line to `progress`.
    pub(crate) fn wait(mut self, stall: Duration, mut progress: impl FnMut(P)) -> Result<R> {
        loop {
            match self.next(stall)? {
                Reply::Progress(p) => progress(p),
                Reply::Done(r) => return Ok(r),
            }
        }
    }

    /// After the result line: the helper exits by itself.
    fn reap(&mut self) {
        let _ = self.child.wait();
        self.done = true;
    }

    /// One line, or `None` at the end of the output.
    fn read_line(&mut self, stall: Duration) -> Result<Option<Vec<u8>>> {
        if let Some(line) = self.take_line() {
            return Ok(Some(line));
        }
        let since = Instant::now();
        loop {
            if self.cancel.cancellable.is_cancelled() {
                self.kill();
                self.cancel.cancellable.set_error_if_cancelled()?;
            }
            let idle = since.elapsed();
            if idle >= stall {
                self.kill();
                return Err(Stalled(stall).into());
            }
            if !readable(&self.stdout, &self.cancel.read, stall - idle) {
                continue;
            }
            let mut chunk = [0u8; 8192];
            let n = match self.stdout.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.kill();
                    return Err(e).context("Reading from the helper");
                }
            };
            if n == 0 {
                return Ok((!self.buf.is_empty()).then(|| std::mem::take(&mut self.buf)));
            }
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(line) = self.take_line() {
                return Ok(Some(line));
            }
        }
    }
}

impl<P, R> Drop for Helper<P, R> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits up to `timeout` until `out` is readable (or at its end) or `cancel`
/// is; true if `out` is.
fn readable(out: &ChildStdout, cancel: &impl AsFd, timeout: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let timeout = timeout.min(Duration::from_secs(3600));
    let mut fds = [
        PollFd::new(out, PollFlags::IN),
        PollFd::new(cancel, PollFlags::IN),
    ];
    let t = Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    let _ = poll(&mut fds, Some(&t));
    !fds[0].revents().is_empty()
}
