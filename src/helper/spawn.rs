//! Starting a helper: our own executable again, as `rpm-ostreed VERB`, its
//! stdin and stdout piped, its stderr the daemon's (the log), killed by the
//! kernel when the thread that started it ends (the daemon dies, or the
//! worker thread is gone).
#![allow(unsafe_code)]

use anyhow::{Context, Result};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// The daemon's executable, which also carries every helper verb.
fn executable() -> Result<std::path::PathBuf> {
    std::env::current_exe().context("Finding our own executable")
}

pub(super) fn spawn(verb: &str) -> Result<Child> {
    let mut cmd = Command::new(executable()?);
    cmd.arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
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
        });
    }
    cmd.spawn()
        .with_context(|| format!("Starting helper {verb}"))
}
