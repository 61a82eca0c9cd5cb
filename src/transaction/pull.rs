//! Pulls from a remote inside a transaction: libostree's progress turned into
//! `DownloadProgress`/`Message`, GPG results into `SignatureProgress`, the
//! transaction's cancellable honoured, and a watchdog that fails a pull which
//! receives nothing for too long instead of hanging forever.

use anyhow::{Result, anyhow};
use gio::prelude::*;
use glib::Variant;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::progress::{DownloadProgress, Event, ProgressSink};

/// What to pull.
#[derive(Debug, Clone, Default)]
pub(crate) struct PullSpec {
    pub remote: String,
    pub branch: String,
    /// Pull this commit of the branch instead of its head.
    pub commit: Option<String>,
    /// Commit objects only (update checks, history walks).
    pub metadata_only: bool,
    /// History depth of commit objects (-1: all).
    pub depth: i32,
}

fn download_progress(p: &ostree::AsyncProgress) -> DownloadProgress {
    let start = p.uint64("start-time");
    let elapsed = if start > 0 {
        (glib::monotonic_time() as u64).saturating_sub(start) / 1_000_000
    } else {
        0
    };
    let bytes = p.uint64("bytes-transferred");
    DownloadProgress {
        time: (start, elapsed),
        outstanding: (p.uint("outstanding-fetches"), p.uint("outstanding-writes")),
        metadata: (
            p.uint("scanned-metadata"),
            p.uint("metadata-fetched"),
            p.uint("outstanding-metadata-fetches"),
        ),
        delta: (
            p.uint("total-delta-parts"),
            p.uint("fetched-delta-parts"),
            p.uint("total-delta-superblocks"),
            p.uint64("total-delta-part-size"),
        ),
        content: (p.uint("fetched"), p.uint("requested")),
        transfer: (bytes, bytes.checked_div(elapsed).unwrap_or(bytes)),
    }
}

/// A fingerprint that moves whenever the pull makes any progress.
fn activity(d: &DownloadProgress) -> u64 {
    d.transfer
        .0
        .wrapping_add(u64::from(d.content.0) << 20)
        .wrapping_add(u64::from(d.metadata.0) << 40)
        .wrapping_add(u64::from(d.metadata.1) << 48)
        .wrapping_add(u64::from(d.outstanding.1) << 56)
}

/// Pulls `spec` into `repo`, reporting through `sink`. Fails with libostree's
/// cancellation error when `cancellable` fires, and with a clear error when
/// nothing arrives for `stall_timeout`.
pub(crate) fn pull(
    repo: &ostree::Repo,
    spec: &PullSpec,
    sink: &ProgressSink,
    cancellable: &gio::Cancellable,
    stall_timeout: Duration,
) -> Result<()> {
    let opts = glib::VariantDict::new(None);
    opts.insert_value("refs", &vec![spec.branch.as_str()].to_variant());
    if let Some(c) = &spec.commit {
        opts.insert_value("override-commit-ids", &vec![c.as_str()].to_variant());
    }
    let flags = if spec.metadata_only {
        ostree::RepoPullFlags::COMMIT_ONLY
    } else {
        ostree::RepoPullFlags::NONE
    };
    opts.insert_value("flags", &(flags.bits() as i32).to_variant());
    if spec.depth != 0 {
        opts.insert_value("depth", &spec.depth.to_variant());
    }

    // The pull gets its own cancellable so the watchdog can stop it without
    // cancelling the whole transaction.
    let pull_cancellable = gio::Cancellable::new();
    let chained = {
        let pc = pull_cancellable.clone();
        cancellable.connect_cancelled(move |_| pc.cancel())
    };
    let last_activity = Arc::new(Mutex::new(Instant::now()));
    let fingerprint = Arc::new(AtomicU64::new(0));
    let stalled = Arc::new(AtomicBool::new(false));

    let progress = ostree::AsyncProgress::new();
    {
        let sink = sink.clone();
        let last_activity = last_activity.clone();
        let fingerprint = fingerprint.clone();
        progress.connect_changed(move |p| {
            if let Some(status) = p.status().filter(|s| !s.is_empty()) {
                sink.message(status.as_str());
                return;
            }
            let d = download_progress(p);
            if fingerprint.swap(activity(&d), Ordering::Relaxed) != activity(&d) {
                *last_activity.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            }
            sink.send(Event::DownloadProgress(d));
        });
    }
    let sig_handler = {
        let sink = sink.clone();
        repo.connect_gpg_verify_result(move |_, commit, result| {
            let sigs: Vec<Variant> = (0..result.count_all())
                .map(|i| Variant::from_variant(&result.all(i)))
                .collect();
            let av = Variant::array_from_iter_with_type(glib::VariantTy::VARIANT, sigs);
            sink.send(Event::SignatureProgress(av, commit.to_string()));
        })
    };
    let watchdog = {
        let pc = pull_cancellable.clone();
        let stalled = stalled.clone();
        let last_activity = last_activity.clone();
        let source = glib::timeout_source_new(
            Duration::from_millis(250),
            Some("rpmostreed-pull-watchdog"),
            glib::Priority::DEFAULT,
            move || {
                let idle = last_activity
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .elapsed();
                if idle >= stall_timeout {
                    stalled.store(true, Ordering::Relaxed);
                    pc.cancel();
                    return glib::ControlFlow::Break;
                }
                glib::ControlFlow::Continue
            },
        );
        source.attach(Some(&glib::MainContext::ref_thread_default()));
        source
    };

    let result = repo.pull_with_options(
        &spec.remote,
        &opts.end(),
        Some(&progress),
        Some(&pull_cancellable),
    );
    watchdog.destroy();
    repo.disconnect(sig_handler);
    if let Some(id) = chained {
        cancellable.disconnect_cancelled(id);
    }
    progress.finish();
    sink.progress_end();
    match result {
        Ok(()) => Ok(()),
        Err(_) if stalled.load(Ordering::Relaxed) && !cancellable.is_cancelled() => Err(anyhow!(
            "Pulling from remote '{}' stalled: nothing received for {} seconds",
            spec.remote,
            stall_timeout.as_secs()
        )),
        Err(e) => Err(e.into()),
    }
}
