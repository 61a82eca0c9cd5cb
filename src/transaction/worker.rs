//! The worker: a named thread with its own thread-default `MainContext` (libostree
//! iterates it during pulls), its own locked `ostree::Sysroot`, and owned input.
//! Whatever happens, panics included, it ends with exactly one result.

use anyhow::Result;
use gio::prelude::*;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use super::kinds::{Kind, Outcome};
use super::progress::{Event, ProgressSink};

/// What a transaction kind gets to work with.
pub(crate) struct WorkerContext {
    /// A private sysroot, loaded, with the sysroot lock held.
    pub sysroot: ostree::Sysroot,
    pub sysroot_path: PathBuf,
    pub cancellable: gio::Cancellable,
    pub progress: ProgressSink,
}

impl WorkerContext {
    /// Fails with libostree's cancellation error if `Cancel` was called.
    pub(crate) fn check_cancelled(&self) -> Result<()> {
        self.cancellable.set_error_if_cancelled()?;
        Ok(())
    }

    /// True if the sysroot is the root filesystem (booted-style operation).
    pub(crate) fn is_root(&self) -> bool {
        self.sysroot_path == std::path::Path::new("/")
    }
}

/// The result the main thread receives from the worker.
pub(crate) type WorkerResult = std::result::Result<Outcome, String>;

/// Runs `kind` in a new named thread; its progress sink receives `Event::Done`
/// with the result as the last event.
pub(crate) fn spawn(kind: Box<dyn Kind>, ctx: WorkerContext) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("rpmostreed-txn".into())
        .spawn(move || {
            let sink = ctx.progress.clone();
            let result = run(kind, ctx);
            sink.send(Event::Done(result));
        })
        .map(|_| ())
}

fn run(kind: Box<dyn Kind>, ctx: WorkerContext) -> WorkerResult {
    let main_context = glib::MainContext::new();
    let outcome = main_context.with_thread_default(|| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            if let Some(title) = kind.execution_title() {
                ctx.progress.send(Event::Title(title));
            }
            kind.execute(&ctx)
        }))
    });
    match outcome {
        Ok(Ok(Ok(outcome))) => Ok(outcome),
        Ok(Ok(Err(e))) => Err(format!("{e:#}")),
        Ok(Err(panic)) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("Internal error in transaction: {what}"))
        }
        Err(e) => Err(format!("Acquiring the worker main context: {e}")),
    }
}
