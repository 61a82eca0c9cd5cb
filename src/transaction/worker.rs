//! The worker: a named thread with its own thread-default `MainContext`
//! (libostree iterates it during pulls), a [`Ctx`] of owned input, and a
//! kind to run. Whatever happens, panics included, it ends with exactly one
//! result, sent on its own channel after every progress event.

use std::panic::AssertUnwindSafe;

use super::kinds::{Ctx, Kind, Outcome};
use crate::progress::Event;

/// The result the main thread receives from the worker.
pub(crate) type WorkerResult = std::result::Result<Outcome, String>;

/// Runs `kind` in a new named thread; its result arrives on the returned
/// channel once `ctx`'s progress sink has sent its last event.
pub(crate) fn spawn(
    kind: Box<dyn Kind>,
    ctx: Ctx,
) -> std::io::Result<async_channel::Receiver<WorkerResult>> {
    let (tx, rx) = async_channel::bounded(1);
    std::thread::Builder::new()
        .name("rpmostreed-txn".into())
        .spawn(move || {
            let result = run(kind, ctx);
            let _ = tx.send_blocking(result);
        })?;
    Ok(rx)
}

fn run(kind: Box<dyn Kind>, ctx: Ctx) -> WorkerResult {
    let main_context = glib::MainContext::new();
    let outcome = main_context.with_thread_default(|| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            if let Some(title) = kind.execution_title() {
                ctx.progress.send(Event::Title(title));
            }
            if kind.reboots() {
                crate::deployment::inhibitors::check_reboot_allowed()?;
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
